#!/usr/bin/env bash
# Install slurmrest-stdio from this checkout into its own virtual environment and put the
# command on PATH. Debian's python3 is used (not a per-user Python) so that every user,
# including the unprivileged ones a super-server runs it as, can execute it.
#
#   tools/install.sh            the program only
#   tools/install.sh --test     plus the test tools (pytest, mypy, ruff, ...)
#
# Environment: SLURMREST_STDIO_VENV (default /opt/slurmrest-stdio),
#              SLURMREST_STDIO_BIN  (default /usr/local/bin: where the command is linked)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SLURMREST_STDIO_VENV:-/opt/slurmrest-stdio}"
bindir="${SLURMREST_STDIO_BIN:-/usr/local/bin}"
extra=""
[ "${1:-}" = --test ] && extra="[test]"

log() { printf '[install %(%H:%M:%S)T] %s\n' -1 "$*"; }
if ! /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null; then
  log "installing python3-venv"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends python3-venv \
    || { apt-get update && apt-get install -y --no-install-recommends python3-venv; }
fi
[ -x "$venv/bin/python" ] || { log "creating $venv"; /usr/bin/python3 -m venv "$venv"; }
log "installing slurmrest-stdio$extra into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
# not editable: the installed copy must be readable by every user, wherever the checkout is
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$here$extra"
ln -sf "$venv/bin/slurmrest-stdio" "$bindir/slurmrest-stdio"
log "installed: $("$bindir/slurmrest-stdio" -V) at $bindir/slurmrest-stdio"
