#!/usr/bin/env bash
# local-stop.sh: stop the Slurm that local-start.sh started, by the PIDs it
# recorded (slurmd, slurmctld, munged), waiting for each to exit.
set -uo pipefail
dir=${SPMD_SLURM_DIR:-/tmp/spmd-slurm}
status=0
for d in slurmd slurmctld munged; do
	f="$dir/$d.pid"
	[ -s "$f" ] || continue
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$pid" 2>/dev/null; then
			echo "local-stop: $d ($pid) did not stop; killing it" >&2
			kill -9 "$pid" 2>/dev/null || status=1
		fi
	fi
	rm -f "$f"
done
echo "local-stop: stopped the local Slurm of $dir"
exit $status
