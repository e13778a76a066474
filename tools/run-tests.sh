#!/usr/bin/env bash
# The whole test suite, from nothing, as root on Debian/Ubuntu: start (or reuse) the test
# cluster, install the package with its test tools, then ruff, mypy and every pytest layer
# (unit, integration, cluster, conformance). With CI=true a missing cluster fails the run.
# Extra arguments go to pytest (e.g. tools/run-tests.sh tests/unit -x).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SLURMREST_STDIO_VENV:-/opt/slurmrest-stdio}"
cd "$here"

bash tools/slurm-lab/setup.sh
bash tools/install.sh --test

step() { printf '\n== %s\n' "$*"; }
step "ruff"
"$venv/bin/ruff" check slurmrest_stdio tests bench
step "mypy (strict)"
"$venv/bin/mypy"
step "pytest"
"$venv/bin/python" -m pytest "${@:-tests}"
