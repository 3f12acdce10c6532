# common.sh: sourced by the sbatch templates of this directory. It sets
#   np        the number of ranks: the tasks of the allocation (SLURM_NTASKS)
#   outdir    where results and traces go: slurm-results/<job name>-<job id>
#             in the submission directory, next to the job's output file
#   bin       the directory of the spmd programs (built by `make build`)
# and defines `launch PROGRAM ARGS...`, which starts np ranks with srun
# --mpi=pmix (SPMD_LAUNCHER=srun, the default) or with mpirun inside the
# allocation (SPMD_LAUNCHER=mpirun), and `check_ranks FILE`, which checks
# that every JSON line of FILE reports "ranks": np (the communicator has the
# size the job asked for).
#
# Environment that matters: OPENBLAS_NUM_THREADS (set to 1 here: one thread
# per worker, the runtime's workers are the parallelism), OPENBLAS_CORETYPE
# (the programs pick the best kernels themselves), SPMD_LAUNCHER, SPMD_ROOT
# (the repository; default the submission directory), SPMD_SRUN_MPI (the
# srun --mpi plugin, default pmix).
: "${SLURM_JOB_ID:?not inside a Slurm job: submit with sbatch}"
root=${SPMD_ROOT:-$SLURM_SUBMIT_DIR}
bin=${SPMD_BIN:-$root/bin}
np=${SLURM_NTASKS:?the job has no task count: use sbatch --ntasks}
outdir=$SLURM_SUBMIT_DIR/slurm-results/${SLURM_JOB_NAME}-${SLURM_JOB_ID}
mkdir -p "$outdir"
export OPENBLAS_NUM_THREADS=1

need() {
	for p in "$@"; do
		[ -x "$bin/$p" ] || { echo "$SLURM_JOB_NAME: $bin/$p missing: run 'make build' in $root first" >&2; exit 2; }
	done
}

launch() {
	case ${SPMD_LAUNCHER:-srun} in
	srun) srun --mpi="${SPMD_SRUN_MPI:-pmix}" -n "$np" "$@" ;;
	mpirun)
		local flags=()
		[ "$(id -u)" = 0 ] && flags+=(--allow-run-as-root)
		mpirun "${flags[@]}" -np "$np" "$@"
		;;
	*) echo "SPMD_LAUNCHER must be srun or mpirun, not '$SPMD_LAUNCHER'" >&2; exit 2 ;;
	esac
}

check_ranks() {
	local f=$1 n bad
	n=$(grep -c '"ranks":' "$f" || true)
	bad=$(grep '"ranks":' "$f" | grep -v -c "\"ranks\":$np[,}]" || true)
	if [ "$n" = 0 ] || [ "$bad" != 0 ]; then
		echo "$SLURM_JOB_NAME: $f: $n results, $bad of them not on $np ranks" >&2
		exit 1
	fi
	echo "$SLURM_JOB_NAME: $n results on $np ranks in $f"
}

echo "$SLURM_JOB_NAME: job $SLURM_JOB_ID, $np tasks on $SLURM_JOB_NODELIST, launcher ${SPMD_LAUNCHER:-srun}, results in $outdir"
