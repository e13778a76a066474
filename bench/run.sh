#!/usr/bin/env bash
# Benchmark slurmrest-stdio against Debian's slurmrestd on the test cluster, as root:
# start (or reuse) the cluster, install the package, then run bench/compare.py, which
# prints a markdown table and writes it to bench/results.md.
# Extra arguments go to compare.py (e.g. bench/run.sh --runs 40 --only ping,nodes).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash tools/slurm-lab/setup.sh
bash tools/install.sh
[ -x /usr/bin/time ] || apt-get install -y -qq time  # GNU time measures each peak RSS
exec /usr/bin/python3 bench/compare.py "$@"
