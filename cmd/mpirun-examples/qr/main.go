// Command qr is the distributed QR demo: the Householder QR factorization
// A = Q R (blockcyclic.Geqrf: by default PanelQR, blocked Householder QR a
// panel at a time; -algo tile for tile QR with a hierarchical reduction
// tree) of an N x N matrix of NB x NB tiles, generated in place on a P x Q
// block-cyclic grid and run as a task graph of the dagmpi runtime. It
// prints the rate (LAPACK's count 2 m n² - 2/3 n³ = 4/3 N³), a scaled
// residual, the time split and, with -scalapack (build with -tags
// scalapack), ScaLAPACK's PDGEQRF on the same matrix and grid in the same
// job (block size -scalapack-nb) and the ratio. The common flags and the
// report are package lademo's; -algo, -ib, -tree and -check-q are this
// program's.
//
//	go build -tags scalapack -o bin/qr ./cmd/mpirun-examples/qr
//	scripts/mpirun.sh -np 2 bin/qr -n 8192 -nb 384 -p 1 -q 2 -scalapack -scalapack-nb 64
//
// The residual compares R with the matrix itself, which serves for both
// sides (ScaLAPACK's Q stays in its own format): A = Q R with Q orthogonal
// means Aᵀ A = Rᵀ R, and a backward stable QR gives
// ||Aᵀ A - Rᵀ R||_F / (n ||A||_F² eps) of order one. It is computed on the
// ranks with two distributed SYRKs. With -check-q, Q is checked too:
// ||Qᵀ A - R||_F / (n ||A||_F eps) with Ormqr (ours only), reported as
// extra.q_residual.
package main

import (
	"flag"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/lademo"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/mpi"
)

// Tol bounds the demo's scaled residuals.
const Tol = 30

const eps = 0x1p-52

func main() {
	ib := flag.Int("ib", 0, "inner block size of the QR kernels (0: blockcyclic's default, 64 from NB = 256, else min(NB, 32))")
	tree := flag.String("tree", "hier", "reduction tree: hier (TS within a process row, TT across) or flat (TS only)")
	algo := flag.String("algo", "panel", "algorithm: panel (blocked Householder QR, a panel at a time: the faster here) or tile (tile QR, -ib and -tree)")
	checkQ := flag.Bool("check-q", false, "also check Q: ||Qᵀ A - R|| / (n ||A|| eps) (costs an Ormqr)")
	lademo.Main("geqrf", 4096, 384, func(e *lademo.Env) (*lademo.Result, error) { return run(e, *algo, *ib, *tree, *checkQ) })
}

// element is the test matrix: entries in [-0.5, 0.5) from a hash of (i, j).
func element(i, j int) float64 {
	x := uint64(i)*0x9E3779B97F4A7C15 ^ uint64(j)*0xC2B2AE3D27D4EB4F ^ 0x2545F4914F6CDD1D
	x ^= x >> 31
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 29
	return float64(x>>11)/float64(1<<53) - 0.5
}

func run(e *lademo.Env, algoName string, ib int, treeName string, checkQ bool) (*lademo.Result, error) {
	f := e.Flags
	n, nb := f.N, f.NB
	var tree bc.QRTree
	switch treeName {
	case "hier":
		tree = bc.HierarchicalTree
	case "flat":
		tree = bc.FlatTree
	default:
		return nil, fmt.Errorf("-tree %q: want hier or flat", treeName)
	}
	var algo bc.QRAlgorithm
	switch algoName {
	case "tile":
		algo = bc.TileQR
	case "panel":
		algo = bc.PanelQR
	default:
		return nil, fmt.Errorf("-algo %q: want tile or panel", algoName)
	}
	if ib < 0 {
		return nil, fmt.Errorf("-ib %d: must not be negative", ib)
	}
	a, err := bc.NewMatrixFunc(e.RT, n, n, nb, nb, e.Dist, element)
	if err != nil {
		return nil, err
	}
	a.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	nn := float64(n)
	res := &lademo.Result{Routine: "geqrf", Flops: 4.0 / 3 * nn * nn * nn}
	var fac *bc.QRFactors
	secs, err := e.Time(func() error {
		var err error
		fac, err = bc.Geqrf(a, &bc.QROptions{IB: ib, Tree: tree, Algorithm: algo})
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Seconds = secs
	res.Extra = map[string]any{"algo": algoName, "ib": fac.IB, "tree": treeName}
	if checkQ {
		r, err := qResidual(e, fac)
		if err != nil {
			return nil, err
		}
		res.Extra["q_residual"] = r
		if !(r <= Tol) {
			return nil, fmt.Errorf("||Qᵀ A - R|| / (n ||A|| eps) = %.3g above the tolerance %d", r, Tol)
		}
	}
	if f.Check {
		if res.Residual, err = residual(e, a); err != nil {
			return nil, err
		}
		res.Checked = true
		if !(res.Residual <= Tol) {
			return nil, fmt.Errorf("||Aᵀ A - Rᵀ R|| / (n ||A||² eps) = %.3g above the tolerance %d", res.Residual, Tol)
		}
	}
	if f.ScaLAPACK {
		snb := f.ScaNB
		if snb == 0 {
			snb = nb
		}
		if err := runPDGEQRF(e, n, snb, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// runPDGEQRF factors the same matrix with PDGEQRF, block size nb, on the
// same grid, timing it like ours, and checks R the same way.
func runPDGEQRF(e *lademo.Env, n, nb int, res *lademo.Result) error {
	p, q := e.Dist.Grid()
	g, err := scalapack.NewGrid(e.Comm, p, q, e.Order)
	if err != nil {
		return err
	}
	a, err := bc.NewMatrixFunc(e.RT, n, n, nb, nb, e.Dist, element)
	if err != nil {
		return err
	}
	a.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	loc, lld, err := a.Local(nil, 0)
	if err != nil {
		return err
	}
	desc, err := a.Desc(g.Context(), lld)
	if err != nil {
		return err
	}
	_, lc, err := a.LocalShape()
	if err != nil {
		return err
	}
	tau := make([]float64, max(lc, 1))
	if err := e.Barrier(); err != nil {
		return err
	}
	t0 := mpi.Wtime()
	info, perr := scalapack.Pdgeqrf(n, n, loc, 1, 1, desc, tau)
	dt := mpi.Wtime() - t0
	if res.ScaLAPACKSeconds, err = e.MaxFloat(dt); err != nil {
		return err
	}
	if perr != nil {
		return fmt.Errorf("PDGEQRF: INFO = %d: %w", info, perr)
	}
	res.ScaLAPACKNB = nb
	if err := g.Exit(); err != nil {
		return err
	}
	if e.Flags.Check {
		if err := a.SetLocal(loc, lld); err != nil {
			return err
		}
		if res.ScaLAPACKResid, err = residual(e, a); err != nil {
			return err
		}
	}
	return nil
}

// residual returns ||Aᵀ A - Rᵀ R||_F / (n ||A||_F² eps) for the factored
// matrix fa (R in its upper triangle; the rest is cleared here): C = Aᵀ A
// of a fresh A by one distributed SYRK, C -= Rᵀ R by another, then the
// upper triangle's squares summed tile by tile and allreduced.
func residual(e *lademo.Env, fa *bc.Matrix) (float64, error) {
	rt := e.RT
	n, _ := fa.Dims()
	nb, _ := fa.BlockSize()
	nt, _ := fa.Tiles()
	for j := 0; j < nt; j++ {
		for i := j; i < nt; i++ {
			part := blas.All
			if i == j {
				part = blas.Lower
			}
			if err := submitClear(rt, fa, i, j, part); err != nil {
				return 0, err
			}
		}
	}
	a0, err := bc.NewMatrixFunc(rt, n, n, nb, nb, fa.Dist(), element)
	if err != nil {
		return 0, err
	}
	c, err := bc.NewMatrix(rt, n, n, nb, nb, fa.Dist())
	if err != nil {
		return 0, err
	}
	if err := bc.Syrk(blas.Upper, blas.Trans, 1, a0, 0, c); err != nil {
		return 0, err
	}
	if err := bc.Syrk(blas.Upper, blas.Trans, -1, fa, 1, c); err != nil {
		return 0, err
	}
	var sums lademo.Sums
	for j := 0; j < nt; j++ {
		for i := 0; i < nt; i++ {
			ct, at := c.Tile(i, j), a0.Tile(i, j)
			rows, cols := c.TileDims(i, j)
			upper := i <= j
			diag := i == j
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				var lr, la float64
				av := at.Buf(tk)
				for _, v := range av[:rows*cols] {
					la += v * v
				}
				if upper {
					cv := ct.Buf(tk)
					for y := 0; y < cols; y++ {
						for x := 0; x < rows; x++ {
							w := 2.0
							switch {
							case diag && x == y:
								w = 1
							case diag && x > y:
								continue
							}
							lr += w * cv[x+y*rows] * cv[x+y*rows]
						}
					}
				}
				sums.Add(lr, la)
				return nil
			}, ct.Read(), at.Read(), dagmpi.OnRank(c.Owner(i, j)), dagmpi.Name("norm")); err != nil {
				return 0, err
			}
		}
	}
	sr, sa, err := e.Total(&sums)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(sr) / (float64(n) * sa * eps), nil
}

// qResidual returns ||Qᵀ A - R||_F / (n ||A||_F eps): Ormqr applies Qᵀ to a
// fresh A, whose tiles are then compared with R's (zero below the
// diagonal) tile by tile. Call it before residual, which clears f.A's
// lower part.
func qResidual(e *lademo.Env, f *bc.QRFactors) (float64, error) {
	rt := e.RT
	fa := f.A
	n, _ := fa.Dims()
	nb, _ := fa.BlockSize()
	nt, _ := fa.Tiles()
	a0, err := bc.NewMatrixFunc(rt, n, n, nb, nb, fa.Dist(), element)
	if err != nil {
		return 0, err
	}
	if err := bc.Ormqr(blas.Left, blas.Trans, f, a0); err != nil {
		return 0, err
	}
	var sums lademo.Sums
	for j := 0; j < nt; j++ {
		for i := 0; i < nt; i++ {
			qa, rt0 := a0.Tile(i, j), fa.Tile(i, j)
			rows, cols := fa.TileDims(i, j)
			i0, j0 := i*nb, j*nb
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				var lr, la float64
				qv, rv := qa.Buf(tk), rt0.Buf(tk)
				for y := 0; y < cols; y++ {
					for x := 0; x < rows; x++ {
						r := 0.0
						if i0+x <= j0+y {
							r = rv[x+y*rows]
						}
						d := qv[x+y*rows] - r
						lr += d * d
						v := element(i0+x, j0+y)
						la += v * v
					}
				}
				sums.Add(lr, la)
				return nil
			}, qa.Read(), rt0.Read(), dagmpi.OnRank(fa.Owner(i, j)), dagmpi.Name("q-norm")); err != nil {
				return 0, err
			}
		}
	}
	sr, sa, err := e.Total(&sums)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(sr) / (float64(n) * math.Sqrt(sa) * eps), nil
}

// submitClear zeroes tile (i, j) of f (part blas.All), or the strictly
// lower part of a diagonal tile (blas.Lower).
func submitClear(rt *dagmpi.Runtime, f *bc.Matrix, i, j int, part blas.Uplo) error {
	t := f.Tile(i, j)
	rows, cols := f.TileDims(i, j)
	return rt.Submit(func(tk *dagmpi.Task) error {
		b := t.Buf(tk)
		switch {
		case part == blas.All:
			kernels.Laset(blas.All, rows, cols, 0, 0, b, max(rows, 1))
		case rows >= 2:
			kernels.Laset(blas.Lower, rows-1, min(cols, rows-1), 0, 0, b[1:], rows)
		}
		return nil
	}, t.ReadWrite(), dagmpi.OnRank(f.Owner(i, j)), dagmpi.Name("clear"))
}
