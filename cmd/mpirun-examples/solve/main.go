// Command solve is the distributed linear solver demo: A X = B for an
// N x N general A and N x NRHS B, 2D block-cyclic over a P x Q grid, by
// blockcyclic.Getrf and Getrs (LAPACK's DGESV as a task graph of the dagmpi
// runtime). It prints the rate (2/3 N³ + 2 N² NRHS flops), the backward
// error ||A X - B|| / (||A|| ||X|| n eps), the growth factor, the time split
// and the DGEMM yardstick; with -scalapack (build with -tags scalapack) it
// also runs ScaLAPACK's PDGETRF and PDGETRS on the same matrices and
// distribution in the same job and prints the ratio.
//
//	go build -tags scalapack -o bin/solve ./cmd/mpirun-examples/solve
//	scripts/mpirun.sh -np 2 bin/solve -n 8192 -nb 384 -p 1 -q 2 -nrhs 16 -scalapack -scalapack-nb 128
package main

import (
	"flag"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/lademo"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/ludemo"
)

var (
	pivot = flag.String("pivot", "partial", "pivoting: partial (LAPACK's), none (diagonally dominant matrix) or tournament (CALU)")
	nrhs  = flag.Int("nrhs", 1, "number of right-hand sides")
)

func main() {
	lademo.Main("gesv", 4096, 384, func(e *lademo.Env) (*lademo.Result, error) {
		p, err := bc.ParsePivoting(*pivot)
		if err != nil {
			return nil, err
		}
		return ludemo.Run(e, ludemo.Config{Solve: true, NRHS: *nrhs, Pivoting: p})
	})
}
