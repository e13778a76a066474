#!/usr/bin/env bash
# Stop the test cluster that setup.sh started, and nothing else: only the PIDs recorded in
# $SLURM_LAB_STATE/pids (default /var/lib/slurm-lab), and only while /proc/<pid>/comm still
# names the expected daemon (a reused PID is left alone). Order: slurmd, slurmctld,
# slurmdbd, mariadbd, munged. Steps of jobs still running are not touched.
set -uo pipefail
LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PIDS="${SLURM_LAB_STATE:-/var/lib/slurm-lab}/pids"
log() { printf '[teardown %(%H:%M:%S)T] %s\n' -1 "$*"; }

stop() { # stop NAME COMM
  local f="$PIDS/$1.pid" pid
  [ -s "$f" ] || { log "$1: no pid file"; return; }
  pid=$(cat "$f")
  if [ ! -d "/proc/$pid" ] || [ "$(cat /proc/$pid/comm 2>/dev/null)" != "$2" ]; then
    log "$1: pid $pid not running (or not $2); removing pid file"; rm -f "$f"; return
  fi
  log "$1: SIGTERM $pid"; kill -TERM "$pid"
  for ((i = 0; i < 60; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.5; done
  if [ -d "/proc/$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = "$2" ]; then
    log "$1: still alive after 30s, SIGKILL $pid"; kill -KILL "$pid"; sleep 1
  fi
  rm -f "$f"
}

for f in "$PIDS"/slurmd-*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)" slurmd; done
stop slurmctld slurmctld
stop slurmdbd slurmdbd
stop mariadbd mariadbd
stop munged munged
log done
