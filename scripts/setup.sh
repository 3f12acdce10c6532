#!/usr/bin/env bash
# setup.sh: install what spmd needs, and only what is missing. Idempotent and
# quick when everything is present. Runs as root, or uses sudo.
#
#   scripts/setup.sh            Open MPI, OpenBLAS, pkg-config, Go modules
#   SPMD_WITH_MPICH=1 scripts/setup.sh   also MPICH (for the -tags mpich tests) and
#                                        ScaLAPACK (the -tags scalapack oracle tests)
#   SPMD_WITH_SLURM=1 scripts/setup.sh   also Slurm and munge (scripts/slurm/ci.sh
#                                        runs the sbatch templates on a local Slurm)
set -euo pipefail
cd "$(dirname "$0")/.."

need_go="1.24"
if ! command -v go >/dev/null 2>&1; then
	echo "setup: Go is not on PATH; install Go $need_go or later (https://go.dev/dl/)" >&2
	exit 1
fi
have_go=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -1)" != "$need_go" ]; then
	echo "setup: Go $have_go is older than the $need_go that go.mod needs" >&2
	exit 1
fi

pkgs=(gcc make pkg-config libopenmpi-dev openmpi-bin libopenblas-dev)
if [ "${SPMD_WITH_MPICH:-0}" = 1 ]; then
	pkgs+=(mpich libmpich-dev libscalapack-openmpi-dev)
fi
if [ "${SPMD_WITH_SLURM:-0}" = 1 ]; then
	pkgs+=(slurm-wlm munge)
fi
missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	echo "setup: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# MPICH registers mpirun too, at a lower priority: keep Open MPI the default.
if [ -x /usr/bin/mpirun.openmpi ] && command -v update-alternatives >/dev/null &&
	[ "$(readlink -f /usr/bin/mpirun)" != "$(readlink -f /usr/bin/mpirun.openmpi)" ]; then
	echo "setup: note: mpirun is not Open MPI's; the tests use SPMD_MPIRUN or mpirun.openmpi" >&2
fi
go mod download
