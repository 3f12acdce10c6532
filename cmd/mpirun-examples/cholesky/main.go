// Command cholesky factors a distributed symmetric positive definite matrix
// with blockcyclic.Potrf on the task runtime, and, with -scalapack (in a
// build with -tags scalapack), factors the same matrix on the same grid with
// ScaLAPACK's PDPOTRF in the same job, printing both rates and their ratio:
//
//	mpirun -np 2 ./cholesky -n 4096 -nb 256
//	mpirun -np 2 ./cholesky -n 8192 -nb 384 -scalapack -scalapack-nb 128 -json
//
// The matrix is generated on each rank from a formula (symmetric noise plus
// n on the diagonal), so nothing is scattered. The check compares A v with
// L (Lᵀ v) for a random v on rank 0: ||A v - L Lᵀ v|| / (n ||A|| ||v|| eps).
// The program exits with status 1 when the residual is over the tolerance.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"time"

	"gonum.org/v1/gonum/blas"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/lademo"
	"github.com/spmd-go/spmd/mpi"
)

const tolerance = 30

func main() {
	f := lademo.Register(flag.CommandLine, 4096, 256)
	uplo := flag.String("uplo", "L", "factor: L (A = L Lᵀ) or U (A = Uᵀ U)")
	flag.Parse()
	e, err := lademo.Setup(f)
	if err != nil {
		lademo.Fail(e, err)
	}
	ok, err := run(e, *uplo)
	if err != nil {
		lademo.Fail(e, err)
	}
	if err := e.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

// element is the test matrix: symmetric noise in [-0.5, 0.5) plus n on the
// diagonal.
func element(n int) func(i, j int) float64 {
	return func(i, j int) float64 {
		a, b := min(i, j), max(i, j)
		x := uint64(a)*0x9e3779b97f4a7c15 ^ uint64(b)*0xc2b2ae3d27d4eb4f
		x ^= x >> 31
		x *= 0xbf58476d1ce4e5b9
		x ^= x >> 29
		v := float64(x>>11)/float64(1<<53) - 0.5
		if i == j {
			v += float64(n)
		}
		return v
	}
}

func run(e *lademo.Env, uploFlag string) (bool, error) {
	f := e.F
	var uplo blas.Uplo
	switch uploFlag {
	case "L", "l":
		uplo = blas.Lower
	case "U", "u":
		uplo = blas.Upper
	default:
		return false, fmt.Errorf("-uplo %q: want L or U", uploFlag)
	}
	n := f.N
	a, err := bc.NewMatrixFunc(e.RT, n, n, f.NB, f.NB, e.Grid, element(n))
	if err != nil {
		return false, err
	}
	if err := e.RT.Wait(); err != nil {
		return false, err
	}
	if err := mpi.Barrier(e.World); err != nil {
		return false, err
	}
	s0 := e.RT.Stats()
	t0 := time.Now()
	if err := bc.Potrf(uplo, a); err != nil {
		return false, err
	}
	wall := time.Since(t0)
	flops := float64(n) * float64(n) * float64(n) / 3
	r := lademo.Result{Routine: "potrf", Seconds: wall.Seconds(), GFLOPS: flops / wall.Seconds() / 1e9, Tolerance: tolerance}
	if err := e.Measure(&r, s0, wall); err != nil {
		return false, err
	}
	ok := true
	if f.Check {
		if r.Residual, err = residual(e, a, uplo); err != nil {
			return false, err
		}
		ok = r.Residual < tolerance
	}
	if f.ScaLAPACK {
		if err := runScaLAPACK(e, uplo, &r); err != nil {
			return false, err
		}
	}
	if err := e.WriteTrace(); err != nil {
		return false, err
	}
	e.Fill(&r)
	e.Report(r)
	if !ok && e.Rank == 0 {
		fmt.Fprintf(os.Stderr, "cholesky: scaled residual %.3g is over the tolerance %d\n", r.Residual, tolerance)
	}
	return ok, nil
}

// residual gathers the factor on rank 0 and returns
// ||A v - F Fᵀ v||_inf / (n ||A||_inf ||v||_inf eps) there (0 elsewhere),
// F = L, or Uᵀ for the upper factor. O(n²) work.
func residual(e *lademo.Env, a *bc.Matrix, uplo blas.Uplo) (float64, error) {
	g, err := a.Gather(0)
	if err != nil || e.Rank != 0 {
		return 0, err
	}
	n := e.F.N
	if n == 0 {
		return 0, nil
	}
	el := element(n)
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Sin(float64(i) + 1)
	}
	// F(i, j) for i >= j: the factor's lower-triangular form.
	F := func(i, j int) float64 {
		if uplo == blas.Lower {
			return g.At(i, j)
		}
		return g.At(j, i)
	}
	// w = Fᵀ v, then y = F w.
	w := make([]float64, n)
	for j := 0; j < n; j++ {
		s := 0.0
		for i := j; i < n; i++ {
			s += F(i, j) * v[i]
		}
		w[j] = s
	}
	var worst, anorm, vnorm float64
	for i := 0; i < n; i++ {
		y, av, row := 0.0, 0.0, 0.0
		for j := 0; j <= i; j++ {
			y += F(i, j) * w[j]
		}
		for j := 0; j < n; j++ {
			x := el(i, j)
			av += x * v[j]
			row += math.Abs(x)
		}
		worst = max(worst, math.Abs(av-y))
		anorm = max(anorm, row)
		vnorm = max(vnorm, math.Abs(v[i]))
	}
	return worst / (float64(n) * anorm * vnorm * 0x1p-53), nil
}

// runScaLAPACK factors the same matrix with PDPOTRF on the same grid.
func runScaLAPACK(e *lademo.Env, uplo blas.Uplo, r *lademo.Result) error {
	f := e.F
	nb := f.SLNB
	if nb == 0 {
		nb = f.NB
	}
	p, q := e.Grid.Grid()
	g, err := scalapack.NewGrid(e.World, p, q, e.Grid.Order())
	if err != nil {
		return fmt.Errorf("-scalapack: %w", err)
	}
	defer g.Exit()
	n := f.N
	rows, cols := g.LocalShape(n, n, nb, nb, 0, 0)
	lld := max(1, rows)
	desc, err := g.Desc(n, n, nb, nb, 0, 0, lld)
	if err != nil {
		return err
	}
	local := make([]float64, lld*cols)
	info := g.Info()
	el := element(n)
	for lj := 0; lj < cols; lj++ {
		gj := bc.Indxl2g(lj, nb, info.MyCol, 0, q)
		for li := 0; li < rows; li++ {
			local[li+lj*lld] = el(bc.Indxl2g(li, nb, info.MyRow, 0, p), gj)
		}
	}
	if err := mpi.Barrier(e.World); err != nil {
		return err
	}
	t0 := time.Now()
	inf, err := scalapack.Pdpotrf(uplo, n, local, 1, 1, desc)
	d := time.Since(t0)
	if err != nil {
		return err
	}
	if inf != 0 {
		return fmt.Errorf("PDPOTRF: INFO = %d", inf)
	}
	// The slowest rank's time is the job's.
	in, out := []float64{d.Seconds()}, []float64{0}
	if err := mpi.Allreduce(e.World, in, out, mpi.Max); err != nil {
		return err
	}
	r.ScaLAPACKSeconds = out[0]
	r.ScaLAPACKGFLOPS = float64(n) * float64(n) * float64(n) / 3 / out[0] / 1e9
	r.ScaLAPACKNB = nb
	return nil
}
