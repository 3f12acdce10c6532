#!/usr/bin/env bash
# mpirun.sh: mpirun with the flags this machine needs: --allow-run-as-root
# when root, --oversubscribe so more ranks than cores work, and one OpenBLAS
# thread per rank. Usage: scripts/mpirun.sh -np 2 ./prog args...
set -euo pipefail
flags=(--oversubscribe)
[ "$(id -u)" = 0 ] && flags+=(--allow-run-as-root)
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
exec "${SPMD_MPIRUN:-mpirun}" "${flags[@]}" "$@"
