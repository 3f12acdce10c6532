#!/usr/bin/env bash
# local-start.sh: start a real single-node Slurm on this machine, for tests
# and for trying the sbatch templates: munged, slurmctld and slurmd, bound
# to 127.0.0.1, with proctrack/linuxproc, task/none and select/cons_tres,
# everything (keys, config, state, logs, PIDs) under one directory.
#
#   scripts/slurm/local-start.sh          # prints the SLURM_CONF line to export
#   export SLURM_CONF=/tmp/spmd-slurm/slurm.conf
#   sbatch --wait scripts/slurm/osu.sbatch
#   scripts/slurm/local-stop.sh           # stops the daemons by the PIDs recorded here
#
# Environment: SPMD_SLURM_DIR (default /tmp/spmd-slurm), SPMD_SLURM_PORT
# (first of two ports, default 16817). Needs slurm-wlm and munge
# (apt-get install slurm-wlm munge; scripts/setup.sh does it with
# SPMD_WITH_SLURM=1). Runs as root or as the user the daemons should run as.
set -euo pipefail
dir=${SPMD_SLURM_DIR:-/tmp/spmd-slurm}
port=${SPMD_SLURM_PORT:-16817}
for c in munged slurmctld slurmd sinfo; do
	command -v "$c" >/dev/null || { echo "local-start: $c not found (apt-get install slurm-wlm munge)" >&2; exit 1; }
done
if [ -s "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
	echo "local-start: a local Slurm is already running from $dir (scripts/slurm/local-stop.sh stops it)" >&2
	exit 1
fi
mkdir -p "$dir"/{state,spool,log,jobs}
chmod 700 "$dir"
user=$(id -un)

# munge: a key of our own, a socket of our own.
if [ ! -s "$dir/munge.key" ]; then
	head -c 1024 /dev/urandom >"$dir/munge.key"
fi
chmod 400 "$dir/munge.key"
force=()
[ "$(id -u)" = 0 ] && force=(--force)
munged "${force[@]}" --key-file="$dir/munge.key" --socket="$dir/munge.sock" \
	--pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munged.seed"

cpus=$(nproc)
mem=$(awk '/MemTotal/ {print int($2/1024*0.9)}' /proc/meminfo)
cat >"$dir/slurm.conf" <<CONF
# Written by scripts/slurm/local-start.sh: a one-node Slurm on 127.0.0.1.
ClusterName=spmd-local
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CryptoType=crypto/munge
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF" -N localhost

# Wait until the node is up.
for _ in $(seq 1 60); do
	state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1 || true)
	case "$state" in
	idle* | mixed* | allocated*)
		echo "local-start: Slurm up ($cpus CPUs, node localhost: $state); export SLURM_CONF=$SLURM_CONF"
		exit 0
		;;
	esac
	sleep 0.5
done
echo "local-start: the node did not come up (state '${state:-none}'); logs in $dir/log" >&2
tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
exit 1
