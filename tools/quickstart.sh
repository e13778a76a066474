#!/usr/bin/env bash
# See slurmrest-stdio answer from a real Slurm, on a fresh Debian/Ubuntu machine, as root:
# when this machine has no working Slurm, start the single-host test cluster; install the
# package; then pipe real requests through `slurmrest-stdio` as an unprivileged user.
#
# Environment: QUICKSTART_USER, the user to run requests as (default: alice from the test
# cluster, or $SUDO_USER when Slurm was already configured).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

if [ -r "${SLURM_CONF:-/etc/slurm/slurm.conf}" ] && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  echo "Using the Slurm configured on this machine."
  user="${QUICKSTART_USER:-${SUDO_USER:-}}"
else
  echo "No working Slurm here: starting the single-host test cluster (tools/slurm-lab)."
  bash tools/slurm-lab/setup.sh
  user="${QUICKSTART_USER:-alice}"
fi
if [ -z "$user" ] && id alice >/dev/null 2>&1; then user=alice; fi
if [ -z "$user" ] || [ "$user" = root ] || ! id "$user" >/dev/null 2>&1; then
  echo "Set QUICKSTART_USER to an existing unprivileged Slurm user." >&2; exit 1
fi
bash tools/install.sh
export PATH="${SLURMREST_STDIO_BIN:-/usr/local/bin}:$PATH"

# Each request runs as $user, whose own shell pipe is the connection (local auth).
ask() {
  printf "\n\$ printf '%s' | slurmrest-stdio\n" "$1"
  setpriv --reuid="$user" --regid="$user" --init-groups -- \
    sh -c 'cd / && printf "$1" | slurmrest-stdio' sh "$1"
  printf '\n'
}
ask 'GET /slurm/v0.0.38/ping HTTP/1.1\r\n\r\n'
ask 'GET /slurm/v0.0.38/ping HTTP/1.1\r\nAccept: application/x-yaml\r\n\r\n'
ask 'GET /slurm/v0.0.38/ping HTTP/1.1\r\n\r\nGET /no/such/path HTTP/1.1\r\n\r\n'
ask 'HEAD /openapi/v3 HTTP/1.1\r\n\r\n'
printf '\n\nslurmrest-stdio answered as %s. Next: README.rst (deployment with xinetd or systemd).\n' "$user"
