# spmd: the two commands of the README, and a few more.
#   make demo   install what is missing, build, run the main demo (Cholesky, N=4096) on 2 ranks
#   make test   install what is missing (MPICH, ScaLAPACK, Slurm too), run the whole test suite
NP ?= 2
N ?= 4096
NB ?= 384
BIN := bin

.PHONY: demo test setup build bench-osu clean

setup:
	@scripts/setup.sh

demo: setup
	go build -o $(BIN)/cholesky ./cmd/mpirun-examples/cholesky
	scripts/mpirun.sh -np $(NP) $(BIN)/cholesky -n $(N) -nb $(NB)

test:
	@SPMD_WITH_MPICH=1 SPMD_WITH_SLURM=1 scripts/setup.sh
	scripts/test.sh

build: setup
	go build ./...
	mkdir -p $(BIN)
	go build -o $(BIN)/ ./cmd/mpirun-examples/... ./bench/...

bench-osu: build
	scripts/mpirun.sh -np 2 $(BIN)/osu latency -compare-c
	scripts/mpirun.sh -np 2 $(BIN)/osu bw -compare-c

clean:
	rm -rf $(BIN)
