#!/usr/bin/env bash
# ci.sh: start the local Slurm, submit every sbatch template with
# `sbatch --wait` under both launchers (srun --mpi=pmix and mpirun inside
# the allocation), check that each job ended with exit 0 and printed its
# results on the ranks it asked for, and stop Slurm again (also on failure).
# Templates whose program is not built (make build) are reported and
# skipped, or fail the run with SPMD_SLURM_STRICT=1 (as in scripts/test.sh).
# Usage: scripts/slurm/ci.sh [template ...]   (default: all *.sbatch)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
export SPMD_SLURM_DIR=${SPMD_SLURM_DIR:-$(mktemp -d /tmp/spmd-slurm-ci.XXXXXX)}
export SLURM_CONF=$SPMD_SLURM_DIR/slurm.conf
work=$(mktemp -d /tmp/spmd-slurm-jobs.XXXXXX)
trap 'scripts/slurm/local-stop.sh >/dev/null; rm -rf "$work"' EXIT
scripts/slurm/local-start.sh

templates=("$@")
[ ${#templates[@]} -gt 0 ] || templates=(scripts/slurm/*.sbatch)
failed=0
for t in "${templates[@]}"; do
	name=$(basename "$t" .sbatch)
	if [ ! -x "bin/$name" ]; then
		if [ "${SPMD_SLURM_STRICT:-0}" = 1 ] && [ -d "cmd/mpirun-examples/$name" -o -d "bench/$name" ]; then
			echo "slurm ci: bin/$name not built (make build): $t FAILED"
			failed=1
		else
			echo "slurm ci: bin/$name not built: skipping $t"
		fi
		continue
	fi
	for launcher in srun mpirun; do
		rc=0
		(cd "$work" && SPMD_ROOT=$root SPMD_LAUNCHER=$launcher timeout 900 sbatch --wait --quiet "$root/$t") || rc=$?
		out=$(ls -t "$work"/slurm-spmd-"$name"-*.out | head -1)
		if [ "$rc" != 0 ] || ! grep -q "results on [0-9]* ranks" "$out"; then
			echo "slurm ci: $t with $launcher FAILED (sbatch exit $rc); its output:"
			cat "$out"
			failed=1
		else
			echo "slurm ci: $t with $launcher: ok ($(grep 'results on' "$out"))"
		fi
	done
done
exit $failed
