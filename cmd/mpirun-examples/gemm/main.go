// Command gemm is the distributed GEMM demo: C = alpha A B + beta C on n x n
// matrices of nb x nb tiles, generated in place on a P x Q block-cyclic grid
// (or P x Q x R for the 2.5D algorithm), computed as a task graph of the
// dagmpi runtime (blockcyclic.Gemm, SUMMA; or blockcyclic.Gemm25D). It
// prints the rate, a scaled residual, the time split and, with -scalapack
// (build with -tags scalapack), ScaLAPACK's PDGEMM on the same matrices and
// distribution in the same job. The common flags and the report are package
// lademo's; -algo and -r are this program's.
//
//	scripts/mpirun.sh -np 2 ./gemm -n 8192 -nb 384 -p 1 -q 2 [-scalapack] [-json]
//	scripts/mpirun.sh -np 4 ./gemm -n 4096 -algo 2.5d -p 1 -q 2 -r 2
//
// The residual is checked without gathering: with a fixed vector x,
// ||C x - alpha A (B x) - beta C0 x|| / ((|alpha| ||A|| ||B|| + |beta| ||C0||) ||x|| n eps)
// (Frobenius norms; the matrix-vector products are summed over the ranks'
// tiles and allreduced).
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/lademo"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/mpi"
)

// Tol bounds the demo's scaled residual.
const Tol = 10

const eps = 0x1p-53

func main() {
	algo := flag.String("algo", "summa", "algorithm: summa (2D grid) or 2.5d (P x Q x R grid)")
	layers := flag.Int("r", 1, "layers R of the 2.5D grid (-algo 2.5d); P x Q is one layer")
	lademo.Layers = layers
	// Tiles of 2048: a GEMM has no critical path to shorten, and OpenBLAS
	// runs a 2048 tile at the large-DGEMM rate while a 384 tile runs about
	// 20% slower (bench/results/la-gemm.md).
	lademo.Main("gemm", 4096, 2048, func(e *lademo.Env) (*lademo.Result, error) { return run(e, *algo, *layers) })
}

func run(e *lademo.Env, algo string, R int) (*lademo.Result, error) {
	switch {
	case algo != "summa" && algo != "2.5d":
		return nil, fmt.Errorf("-algo %q: want summa or 2.5d", algo)
	case R < 1:
		return nil, fmt.Errorf("-r %d: layers must be at least 1", R)
	case algo == "summa" && R != 1:
		return nil, fmt.Errorf("-r %d needs -algo 2.5d", R)
	case algo == "2.5d" && e.Flags.ScaLAPACK:
		return nil, errors.New("-scalapack compares with PDGEMM on a 2D grid: use -algo summa")
	}
	rt, w := e.RT, e.Comm
	var dist bc.Distribution = e.Dist
	if algo == "2.5d" {
		p, q := e.Dist.Grid()
		rs, cs := e.Dist.Source()
		g3, err := bc.NewCyclic3D(p, q, R, e.Order, rs, cs)
		if err != nil {
			return nil, err
		}
		dist = g3
	}
	N, NB := e.Flags.N, e.Flags.NB
	const alpha, beta = 1.0, 0.5
	fa := func(i, j int) float64 { return float64((i*7+j*13)%31)/31 - 0.5 }
	fb := func(i, j int) float64 { return float64((i*11+j*5)%29)/29 - 0.5 }
	fc := func(i, j int) float64 { return float64((i*3+j*17)%23)/23 - 0.5 }
	a, err := bc.NewMatrixFunc(rt, N, N, NB, NB, dist, fa)
	if err != nil {
		return nil, err
	}
	a.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	b, err := bc.NewMatrixFunc(rt, N, N, NB, NB, dist, fb)
	if err != nil {
		return nil, err
	}
	b.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	c, err := bc.NewMatrixFunc(rt, N, N, NB, NB, dist, fc)
	if err != nil {
		return nil, err
	}
	c.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	x := make([]float64, N)
	for i := range x {
		x[i] = 1 + float64(i%7)/7
	}
	res := &lademo.Result{Routine: "gemm", Flops: 2 * float64(N) * float64(N) * float64(N),
		Extra: map[string]any{"algo": algo, "r": R}}
	var nrm [3]float64
	var c0x []float64
	if e.Flags.Check {
		for i, m := range []*bc.Matrix{a, b, c} {
			if nrm[i], err = frob(rt, w, m); err != nil {
				return nil, err
			}
		}
		if c0x, err = matvec(rt, w, c, x); err != nil {
			return nil, err
		}
	}
	call := bc.Gemm
	if algo == "2.5d" {
		call = bc.Gemm25D
	}
	res.Seconds, err = e.Time(func() error { return call(blas.NoTrans, blas.NoTrans, alpha, a, b, beta, c) })
	if err != nil {
		return nil, err
	}
	if e.Flags.Check {
		res.Checked = true
		if res.Residual, err = residual(rt, w, a, b, c, x, c0x, alpha, beta, nrm); err != nil {
			return nil, err
		}
		if !(res.Residual <= Tol) {
			return nil, fmt.Errorf("residual %.3g above the tolerance %d", res.Residual, Tol)
		}
	}
	if e.Flags.ScaLAPACK {
		if err := runPDGEMM(e, a, b, fc, x, c0x, alpha, beta, nrm, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// perTile runs f on every tile this rank owns, as tasks, and waits.
func perTile(rt *dagmpi.Runtime, a *bc.Matrix, f func(i, j int, tile []float64)) error {
	mt, nt := a.Tiles()
	for j := 0; j < nt; j++ {
		for i := 0; i < mt; i++ {
			owner := a.Owner(i, j)
			if owner != rt.Rank() && rt.Pruned() {
				continue
			}
			d := a.Tile(i, j)
			err := rt.Submit(func(t *dagmpi.Task) error {
				f(i, j, d.Buf(t))
				return nil
			}, d.Read(), dagmpi.OnRank(owner), dagmpi.Name("check"))
			if err != nil {
				return err
			}
		}
	}
	return rt.Wait()
}

// frob returns the Frobenius norm of a on every rank.
func frob(rt *dagmpi.Runtime, w *mpi.Comm, a *bc.Matrix) (float64, error) {
	var mu sync.Mutex
	var s float64
	err := perTile(rt, a, func(i, j int, tile []float64) {
		var t float64
		for _, v := range tile {
			t += v * v
		}
		mu.Lock()
		s += t
		mu.Unlock()
	})
	if err != nil {
		return 0, err
	}
	out := []float64{0}
	err = mpi.Allreduce(w, []float64{s}, out, mpi.Sum)
	return math.Sqrt(out[0]), err
}

// matvec returns a x on every rank.
func matvec(rt *dagmpi.Runtime, w *mpi.Comm, a *bc.Matrix, x []float64) ([]float64, error) {
	m, _ := a.Dims()
	mb, nb := a.BlockSize()
	y := make([]float64, m)
	var mu sync.Mutex
	err := perTile(rt, a, func(i, j int, tile []float64) {
		rows, cols := a.TileDims(i, j)
		part := make([]float64, rows)
		for jj := 0; jj < cols; jj++ {
			xv := x[j*nb+jj]
			for ii, v := range tile[jj*rows : (jj+1)*rows] {
				part[ii] += v * xv
			}
		}
		mu.Lock()
		for ii, v := range part {
			y[i*mb+ii] += v
		}
		mu.Unlock()
	})
	if err != nil {
		return nil, err
	}
	out := make([]float64, m)
	return out, mpi.Allreduce(w, y, out, mpi.Sum)
}

// residual returns the scaled residual of C against alpha A B + beta C0,
// probed with x; nrm holds the Frobenius norms of A, B and C0.
func residual(rt *dagmpi.Runtime, w *mpi.Comm, a, b, c *bc.Matrix, x, c0x []float64, alpha, beta float64, nrm [3]float64) (float64, error) {
	cx, err := matvec(rt, w, c, x)
	if err != nil {
		return 0, err
	}
	bx, err := matvec(rt, w, b, x)
	if err != nil {
		return 0, err
	}
	abx, err := matvec(rt, w, a, bx)
	if err != nil {
		return 0, err
	}
	var num, nx float64
	for i := range cx {
		d := cx[i] - alpha*abx[i] - beta*c0x[i]
		num += d * d
	}
	for _, v := range x {
		nx += v * v
	}
	n, _ := c.Dims()
	return math.Sqrt(num) / ((math.Abs(alpha)*nrm[0]*nrm[1] + math.Abs(beta)*nrm[2]) * math.Sqrt(nx) * float64(n) * eps), nil
}

// runPDGEMM runs ScaLAPACK's PDGEMM on the local arrays of a, b and a fresh
// C0 with the same distribution and block size, timing it like ours, and
// checks its result the same way.
func runPDGEMM(e *lademo.Env, a, b *bc.Matrix, fc func(i, j int) float64, x, c0x []float64, alpha, beta float64, nrm [3]float64, res *lademo.Result) error {
	rt, w := e.RT, e.Comm
	n, _ := a.Dims()
	mbs, nbs := a.BlockSize()
	c, err := bc.NewMatrixFunc(rt, n, n, mbs, nbs, a.Dist(), fc)
	if err != nil {
		return err
	}
	p, q := e.Dist.Grid()
	grid, err := scalapack.NewGrid(w, p, q, e.Order)
	if err != nil {
		return err
	}
	var loc [3][]float64
	var desc [3]bc.Desc
	for i, m := range []*bc.Matrix{a, b, c} {
		l, lld, err := m.Local(nil, 0)
		if err != nil {
			return err
		}
		if desc[i], err = m.Desc(grid.Context(), lld); err != nil {
			return err
		}
		loc[i] = l
	}
	if err := e.Barrier(); err != nil {
		return err
	}
	t0 := mpi.Wtime()
	if err := scalapack.Pdgemm(blas.NoTrans, blas.NoTrans, n, n, n, alpha, loc[0], 1, 1, desc[0], loc[1], 1, 1, desc[1], beta, loc[2], 1, 1, desc[2]); err != nil {
		return err
	}
	if res.ScaLAPACKSeconds, err = e.MaxFloat(mpi.Wtime() - t0); err != nil {
		return err
	}
	res.ScaLAPACKNB = nbs
	if err := grid.Exit(); err != nil {
		return err
	}
	if err := c.SetLocal(loc[2], desc[2][bc.LLD_]); err != nil {
		return err
	}
	if e.Flags.Check {
		if res.ScaLAPACKResid, err = residual(rt, w, a, b, c, x, c0x, alpha, beta, nrm); err != nil {
			return err
		}
	}
	return nil
}
