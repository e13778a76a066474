#!/usr/bin/env bash
# The slurmrest-stdio test cluster: a real single-host Slurm 22.05 from Debian 12's packages,
# without systemd. It runs
#   munged, mariadbd, slurmdbd, slurmctld and four slurmd (n1..n4 on this one host),
#   cluster "lab", partitions debug (default) and long, licenses fluent/matlab,
#   AuthAltTypes=auth/jwt (key /etc/slurm/jwt_hs256.key), accounting through slurmdbd,
#   unprivileged users alice and bob (account research) and carol (account physics),
# and installs Debian's slurmrestd, which the conformance tests run side by side with us.
#
# Idempotent: run it any number of times. A daemon whose recorded PID
# ($SLURM_LAB_STATE/pids/<name>.pid, default /var/lib/slurm-lab) still names a process with
# the right /proc/<pid>/comm is left alone; missing ones are started (setsid, in the
# background). Configuration files are rewritten only when their content changes, and the
# daemons that read them are restarted only then. teardown.sh stops exactly these PIDs.
#
# Run as root.  Environment:
#   LAB_SKIP_APT=1     do not touch apt (the packages must be installed already)
#   LAB_NO_TESTJOB=1   skip the final sbatch smoke test
#   SLURM_LAB_STATE    where PIDs and a copy of the configuration go
set -euo pipefail

LAB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# state lives outside the checkout so that any clone (CI, a developer) sees the same daemons
STATE="${SLURM_LAB_STATE:-/var/lib/slurm-lab}"
PIDS="$STATE/pids"
CONFCOPY="$STATE/conf"
LOGDIR=/var/log/slurm
CLUSTER=lab
HOST="$(hostname -s)"
NODES=(n1 n2 n3 n4)
NODE_PORT_BASE=17001          # n1 -> 17001, n2 -> 17002, ...
NODE_CPUS=4                   # overcommitted on purpose (config_overrides)
NODE_MEM=2000                 # MB per node (config_overrides)
JWT_KEY=/etc/slurm/jwt_hs256.key
DB_PASS=slurmdbpass
TEST_USERS=(alice bob carol)  # unix users; alice,bob -> account research; carol -> physics

log() { printf '[setup %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root"
mkdir -p "$PIDS" "$CONFCOPY"

# ---------------------------------------------------------------- packages
PKGS=(munge slurmctld slurmd slurm-client slurmrestd slurmdbd
      slurm-wlm-jwt-plugin        # auth_jwt.so lives here, NOT in basic-plugins
      slurm-wlm-mysql-plugin mariadb-server mariadb-client
      slurm-wlm-doc               # html docs incl. rest_api.html (reference)
      hyperfine jq curl socat procps util-linux
      python3-venv                # the package is installed into a venv of Debian's python3
      xinetd systemd)             # the super-servers the deployment tests run (never as services)
if [ "${LAB_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    # Never let maintainer scripts start services (no systemd / init here).
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends "${missing[@]}" \
      || { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  fi
fi

# ---------------------------------------------------------------- users
for u in "${TEST_USERS[@]}"; do
  id "$u" >/dev/null 2>&1 || { log "useradd $u"; useradd -m -s /bin/bash "$u"; }
done

# ---------------------------------------------------------------- helpers
# pid_alive NAME COMM : true if $PIDS/NAME.pid names a live process whose comm is COMM
pid_alive() {
  local f="$PIDS/$1.pid" pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -d "/proc/$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = "$2" ]
}
# start_bg NAME COMM CMD... : start CMD detached (new session), record its PID
start_bg() {
  local name=$1 comm=$2; shift 2
  if pid_alive "$name" "$comm"; then
    log "$name already running (pid $(cat "$PIDS/$name.pid"))"; return 0
  fi
  log "starting $name: $*"
  # setsid does not fork here (we are not a process-group leader), so $! is the daemon itself
  setsid nohup "$@" >>"$LOGDIR/$name.stdout" 2>&1 </dev/null &
  echo $! > "$PIDS/$name.pid"
  sleep 0.5
  pid_alive "$name" "$comm" || { tail -20 "$LOGDIR/$name.stdout" "$LOGDIR/$name.log" 2>/dev/null; die "$name died at start"; }
}
# stop_pid NAME COMM : SIGTERM the recorded pid (if it is still COMM) and wait for it
stop_pid() {
  local pid
  pid_alive "$1" "$2" || return 0
  pid=$(cat "$PIDS/$1.pid"); log "stopping $1 (pid $pid)"; kill -TERM "$pid"
  for ((i = 0; i < 60; i++)); do [ -d "/proc/$pid" ] || return 0; sleep 0.5; done
  kill -KILL "$pid"; sleep 1
}
wait_for() { # wait_for SECONDS DESCRIPTION CMD...
  local t=$1 what=$2; shift 2
  for ((i = 0; i < t * 2; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "timeout waiting for $what"
}
# install_file DEST MODE OWNER < content : only rewrites when content changed
install_file() {
  local dest=$1 mode=$2 owner=$3 tmp; tmp=$(mktemp)
  cat > "$tmp"
  if ! cmp -s "$tmp" "$dest" 2>/dev/null; then log "writing $dest"; install -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$tmp" "$dest"; CHANGED+=("$dest"); fi
  rm -f "$tmp"
  cp "$dest" "$CONFCOPY/$(basename "$dest")" 2>/dev/null && chmod 0644 "$CONFCOPY/$(basename "$dest")" || true
}
CHANGED=()

# ---------------------------------------------------------------- dirs
install -d -o slurm -g slurm -m 0755 "$LOGDIR" /var/spool/slurmctld /var/spool/slurmd /run/slurm
for n in "${NODES[@]}"; do install -d -o root -g root -m 0755 "/var/spool/slurmd/$n"; done
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/log/munge /etc/munge
install -d -o munge -g munge -m 0711 /var/lib/munge
install -d -o mysql -g root -m 0755 /run/mysqld

# ---------------------------------------------------------------- keys
if [ ! -s /etc/munge/munge.key ]; then
  log "creating munge key"; mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
if [ ! -s "$JWT_KEY" ]; then
  log "creating $JWT_KEY (32 random bytes)"
  install -d -m 0755 /etc/slurm
  dd if=/dev/urandom of="$JWT_KEY" bs=32 count=1 status=none
fi
chown slurm:slurm "$JWT_KEY"; chmod 0600 "$JWT_KEY"

# ---------------------------------------------------------------- configs
nodelist="n[1-${#NODES[@]}]"
install_file /etc/slurm/slurm.conf 0644 root:root < <(
cat <<EOF
# written by slurmrest-stdio tools/slurm-lab/setup.sh
ClusterName=$CLUSTER
SlurmctldHost=$HOST
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$JWT_KEY
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd/%n
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd-%n.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd-%n.log
SlurmctldDebug=info
SlurmdDebug=info
# container friendly: no cgroups anywhere
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# nodes claim more CPUs/memory than the VM has: trust slurm.conf
SlurmdParameters=config_overrides
ReturnToService=2
MaxJobCount=20000
MaxArraySize=2001
MinJobAge=300
KillWait=5
InactiveLimit=0
Licenses=fluent:10,matlab:2
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageEnforce=associations,limits,qos
AccountingStoreFlags=job_comment,job_script,job_env
AccountingStorageTRES=cpu,mem,node,license/fluent,license/matlab
TrackWCKey=yes
JobCompType=jobcomp/none
MailProg=/usr/bin/true
# Debian's 22.05.8 build has MULTIPLE_SLURMD (cluster flag MULTIPLE_SLURMD; one NodeAddr
# for 4 NodeNames is accepted), so several slurmd share this host: one NodeHostname,
# one address, distinct ports; each slurmd is started as: slurmd -D -N <node>
NodeName=$nodelist NodeHostname=$HOST NodeAddr=127.0.0.1 Port=[$NODE_PORT_BASE-$((NODE_PORT_BASE + ${#NODES[@]} - 1))] CPUs=$NODE_CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$NODE_CPUS ThreadsPerCore=1 RealMemory=$NODE_MEM State=UNKNOWN
PartitionName=debug Nodes=$nodelist Default=YES MaxTime=01:00:00 DefaultTime=00:10:00 State=UP
PartitionName=long Nodes=n[3-4] Default=NO MaxTime=7-00:00:00 DefaultTime=01:00:00 State=UP
EOF
)

install_file /etc/slurm/slurmdbd.conf 0600 slurm:slurm <<EOF
# written by slurmrest-stdio tools/slurm-lab/setup.sh
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=$JWT_KEY
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
DebugLevel=info
LogFile=$LOGDIR/slurmdbd.log
PidFile=/run/slurm/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=localhost
StoragePort=3306
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$DB_PASS
TrackWCKey=yes
EOF

install_file /etc/mysql/mariadb.conf.d/99-slurm-lab.cnf 0644 root:root <<'EOF'
# written by slurmrest-stdio tools/slurm-lab/setup.sh (sizes from Slurm's accounting guide)
[mysqld]
innodb_buffer_pool_size=256M
innodb_log_file_size=64M
innodb_lock_wait_timeout=900
bind-address=127.0.0.1
EOF

# ---------------------------------------------------------------- munged
start_bg munged munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground
wait_for 15 munged bash -c 'munge -n | unmunge'

# ---------------------------------------------------------------- mariadb
start_bg mariadbd mariadbd /usr/sbin/mariadbd --user=mysql --socket=/run/mysqld/mysqld.sock --pid-file=/run/mysqld/mysqld.pid
wait_for 60 mariadbd mariadb-admin --protocol=socket ping
mariadb --protocol=socket <<EOF
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
FLUSH PRIVILEGES;
EOF

# ---------------------------------------------------------------- slurmdbd
if printf '%s\n' "${CHANGED[@]}" | grep -q slurmdbd.conf; then stop_pid slurmdbd slurmdbd; fi
start_bg slurmdbd slurmdbd /usr/sbin/slurmdbd -D
wait_for 60 slurmdbd sacctmgr -n show cluster

# ---------------------------------------------------------------- accounting objects (idempotent)
sa() { sacctmgr -i "$@" >/dev/null 2>&1 || true; }
sacctmgr -n -P show cluster format=cluster | grep -qx "$CLUSTER" || { log "sacctmgr add cluster $CLUSTER"; sacctmgr -i add cluster "$CLUSTER"; }
sacctmgr -n -P show qos format=name | grep -qx high || sa add qos high Priority=100 MaxWall=02:00:00
sacctmgr -n -P show account format=account | grep -qx research || sa add account research Description="research group" Organization=lab
sacctmgr -n -P show account format=account | grep -qx physics || sa add account physics Description="physics group" Organization=lab
assoc() { # user account
  sacctmgr -n -P show assoc where user="$1" account="$2" cluster="$CLUSTER" format=user | grep -qx "$1" \
    || { log "sacctmgr add user $1 account=$2"; sa add user "$1" Account="$2" Cluster="$CLUSTER"; }
}
assoc alice research; assoc bob research; assoc carol physics
sa modify user where name=alice set QOS+=high
sacctmgr -n -P show wckey format=wckey,user | grep -q '^projx|alice$' || sa add user alice wckeys=projx

# ---------------------------------------------------------------- slurmctld
if printf '%s\n' "${CHANGED[@]}" | grep -q '/slurm.conf$'; then
  log "slurm.conf changed: (re)starting slurmctld and slurmds"
  for n in "${NODES[@]}"; do stop_pid "slurmd-$n" slurmd; done
  stop_pid slurmctld slurmctld
fi
start_bg slurmctld slurmctld /usr/sbin/slurmctld -D
wait_for 60 slurmctld bash -c 'scontrol ping | grep -q UP'

# ---------------------------------------------------------------- slurmd x N
for n in "${NODES[@]}"; do
  start_bg "slurmd-$n" slurmd /usr/sbin/slurmd -D -N "$n"
done
nodes_idle() { # every node idle/mixed/allocated (responding)
  local bad; bad=$(sinfo -N -h -o '%N %T' | awk '$2 !~ /^(idle|mixed|allocated|completing|reserved)$/' | sort -u)
  [ -z "$bad" ]
}
for ((i = 0; i < 90; i++)); do
  nodes_idle && break; sleep 1
  # nodes left DOWN by an earlier unclean stop: resume them once their slurmd answers
  if [ $i = 15 ]; then scontrol update nodename="$nodelist" state=resume >/dev/null 2>&1 || true; fi
done
nodes_idle || { sinfo -N -l; die "nodes not idle"; }
log "nodes: $(sinfo -h -o '%P %a %D %T' | tr '\n' ';')"

# ---------------------------------------------------------------- reservation (for the reservations endpoint)
scontrol show reservation maint >/dev/null 2>&1 \
  || scontrol create reservation ReservationName=maint StartTime=now+7days Duration=60 Nodes=n4 Users=root Flags=MAINT >/dev/null \
  || log "WARN: could not create reservation"

# ---------------------------------------------------------------- smoke test
if [ "${LAB_NO_TESTJOB:-0}" != 1 ]; then
  jid=$(sbatch --parsable -o /dev/null --wrap 'sleep 1')
  for ((i = 0; i < 60; i++)); do
    st=$(sacct -n -X -P -j "$jid" -o State 2>/dev/null | head -1)
    [ "$st" = COMPLETED ] && break; sleep 1
  done
  [ "$st" = COMPLETED ] || die "test job $jid state '$st'"
  log "test job $jid COMPLETED"
fi
log "lab up. PIDs in $PIDS:"; for f in "$PIDS"/*.pid; do printf '  %-14s %s\n' "$(basename "$f" .pid)" "$(cat "$f")"; done
