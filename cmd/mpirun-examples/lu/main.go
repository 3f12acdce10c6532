// Command lu is the distributed LU demo: blockcyclic.Getrf factors an
// N x N general matrix, 2D block-cyclic over a P x Q grid, as a task graph
// of the dagmpi runtime, with partial pivoting (-pivot partial, LAPACK's) or
// none (-pivot none, on a diagonally dominant matrix). It prints the rate
// (2/3 N³ flops), the backward error of a solve with the factors
// ||A x - b|| / (||A|| ||x|| n eps), the growth factor max|U| / max|A|, the
// time split and the DGEMM yardstick; with -scalapack (build with -tags
// scalapack) it also runs ScaLAPACK's PDGETRF on the same matrix and
// distribution in the same job and prints the ratio.
//
//	go build -tags scalapack -o bin/lu ./cmd/mpirun-examples/lu
//	scripts/mpirun.sh -np 2 bin/lu -n 8192 -nb 384 -p 1 -q 2 -scalapack -scalapack-nb 128
//
// The matrix is generated in place, tile by tile, from a hash of (i, j):
// entries in [-0.5, 0.5) (plus N on the diagonal with -pivot none).
package main

import (
	"flag"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/lademo"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/ludemo"
)

var pivot = flag.String("pivot", "partial", "pivoting: partial (LAPACK's), none (diagonally dominant matrix) or tournament (CALU)")

func main() {
	lademo.Main("getrf", 4096, 384, func(e *lademo.Env) (*lademo.Result, error) {
		p, err := bc.ParsePivoting(*pivot)
		if err != nil {
			return nil, err
		}
		return ludemo.Run(e, ludemo.Config{Pivoting: p})
	})
}
