// Package ludemo is the body shared by the LU demo programs
// (cmd/mpirun-examples/lu and .../solve): it builds the test matrix, runs
// blockcyclic.Getrf (and Getrs), checks the result by the backward error of
// a solve, reports the growth factor and, with -scalapack, runs PDGETRF
// (and PDGETRS) on the same matrix and distribution in the same job.
package ludemo

import (
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

// Tol bounds the backward error ||A x - b||_F / (||A||_F ||x||_F n eps)
// the programs accept (LAPACK's test threshold is 30).
const Tol = 30

const eps = 0x1p-52

// Config is what a program asks for.
type Config struct {
	Solve    bool        // time Getrf + Getrs (and PDGETRF + PDGETRS), not the factorization alone
	NRHS     int         // right-hand sides of the timed solve
	Pivoting bc.Pivoting // Getrf's pivoting
}

// hash01 is a deterministic value in [-0.5, 0.5) from (i, j, seed).
func hash01(i, j, seed int) float64 {
	x := uint64(i)*0x9E3779B97F4A7C15 ^ uint64(j)*0xC2B2AE3D27D4EB4F ^ uint64(seed)*0x165667B19E3779F9
	x ^= x >> 31
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 29
	return float64(x>>11)/float64(1<<53) - 0.5
}

// Element returns the test matrix: random entries in [-0.5, 0.5), plus n
// on the diagonal without pivoting (diagonally dominant, so that no
// pivoting is stable).
func Element(n int, p bc.Pivoting) func(i, j int) float64 {
	return func(i, j int) float64 {
		v := hash01(i, j, 1)
		if i == j && p == bc.NoPivoting {
			v += float64(n)
		}
		return v
	}
}

func rhs(i, j int) float64 { return hash01(i, j, 2) }

// Run is the body of the programs, for lademo.Main.
func Run(e *lademo.Env, cfg Config) (*lademo.Result, error) {
	f := e.Flags
	n, nb := f.N, f.NB
	nrhs := max(cfg.NRHS, 1)
	gen := Element(n, cfg.Pivoting)
	a, err := bc.NewMatrixFunc(e.RT, n, n, nb, nb, e.Dist, gen)
	if err != nil {
		return nil, err
	}
	a.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	amax, err := bc.MaxAbs(a, blas.All)
	if err != nil {
		return nil, err
	}
	var b *bc.Matrix
	if cfg.Solve {
		if b, err = bc.NewMatrixFunc(e.RT, n, nrhs, nb, nb, e.Dist, rhs); err != nil {
			return nil, err
		}
		b.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	}
	if err := e.RT.Wait(); err != nil {
		return nil, err
	}
	flops := 2 * math.Pow(float64(n), 3) / 3
	routine := "getrf"
	if cfg.Solve {
		flops += 2 * float64(n) * float64(n) * float64(nrhs)
		routine = "gesv"
	}
	res := &lademo.Result{Routine: routine, Flops: flops}
	var piv *bc.Pivots
	secs, err := e.Time(func() error {
		var err error
		if piv, err = bc.Getrf(a, cfg.Pivoting); err != nil {
			return err
		}
		if cfg.Solve {
			return bc.Getrs(blas.NoTrans, a, piv, b)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Seconds = secs
	umax, err := bc.MaxAbs(a, blas.Upper)
	if err != nil {
		return nil, err
	}
	extra := map[string]any{"pivoting": cfg.Pivoting.String(), "growth": umax / amax}
	if f.Check {
		x := b
		if !cfg.Solve {
			// Check the factors by a solve with them.
			if x, err = bc.NewMatrixFunc(e.RT, n, 1, nb, nb, e.Dist, rhs); err != nil {
				return nil, err
			}
			if err := bc.Getrs(blas.NoTrans, a, piv, x); err != nil {
				return nil, err
			}
		}
		r, err := BackwardError(e, gen, x)
		if err != nil {
			return nil, err
		}
		res.Residual, res.Checked = r, true
		if !(r < Tol) {
			return nil, fmt.Errorf("backward error %.3g, want < %v", r, float64(Tol))
		}
	}
	if f.ScaLAPACK {
		snb := f.ScaNB
		if snb == 0 {
			snb = nb
		}
		secs, r, growth, err := runScaLAPACK(e, cfg, snb, gen, amax)
		if err != nil {
			return nil, err
		}
		res.ScaLAPACKSeconds, res.ScaLAPACKNB, res.ScaLAPACKResid = secs, snb, r
		extra["scalapack_growth"] = growth
	}
	if e.Rank == 0 && !f.JSON {
		fmt.Printf("pivoting %s, growth factor max|U| / max|A| = %.3g\n", cfg.Pivoting, umax/amax)
	}
	res.Extra = extra
	return res, nil
}

// runScaLAPACK factors the same matrix with PDGETRF (and solves with
// PDGETRS) with block size nb on the same grid, and returns the slowest
// rank's time, the backward error of a solve and the growth factor.
func runScaLAPACK(e *lademo.Env, cfg Config, nb int, gen func(i, j int) float64, amax float64) (float64, float64, float64, error) {
	n := e.Flags.N
	nrhs := max(cfg.NRHS, 1)
	p, q := e.Dist.Grid()
	g, err := scalapack.NewGrid(e.Comm, p, q, e.Order)
	if err != nil {
		return 0, 0, 0, err
	}
	defer g.Exit()
	a, err := bc.NewMatrixFunc(e.RT, n, n, nb, nb, e.Dist, gen)
	if err != nil {
		return 0, 0, 0, err
	}
	b, err := bc.NewMatrixFunc(e.RT, n, nrhs, nb, nb, e.Dist, rhs)
	if err != nil {
		return 0, 0, 0, err
	}
	la, lda, err := a.Local(nil, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	lb, ldb, err := b.Local(nil, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	da, err := a.Desc(g.Context(), lda)
	if err != nil {
		return 0, 0, 0, err
	}
	db, err := b.Desc(g.Context(), ldb)
	if err != nil {
		return 0, 0, 0, err
	}
	rows, _, err := a.LocalShape()
	if err != nil {
		return 0, 0, 0, err
	}
	ipiv := make([]int32, rows+nb)
	if err := e.Barrier(); err != nil {
		return 0, 0, 0, err
	}
	t0 := mpi.Wtime()
	info, perr := scalapack.Pdgetrf(n, n, la, 1, 1, da, ipiv)
	if perr == nil && cfg.Solve {
		info, perr = scalapack.Pdgetrs(blas.NoTrans, n, nrhs, la, 1, 1, da, ipiv, lb, 1, 1, db)
	}
	dt := mpi.Wtime() - t0
	secs, err := e.MaxFloat(dt)
	if err != nil {
		return 0, 0, 0, err
	}
	if perr != nil {
		return 0, 0, 0, fmt.Errorf("ScaLAPACK: INFO = %d: %w", info, perr)
	}
	if err := a.SetLocal(la, lda); err != nil {
		return 0, 0, 0, err
	}
	umax, err := bc.MaxAbs(a, blas.Upper)
	if err != nil {
		return 0, 0, 0, err
	}
	r := math.NaN()
	if e.Flags.Check {
		if !cfg.Solve {
			if _, perr := scalapack.Pdgetrs(blas.NoTrans, n, nrhs, la, 1, 1, da, ipiv, lb, 1, 1, db); perr != nil {
				return 0, 0, 0, fmt.Errorf("PDGETRS: %w", perr)
			}
		}
		if err := b.SetLocal(lb, ldb); err != nil {
			return 0, 0, 0, err
		}
		if r, err = BackwardError(e, gen, b); err != nil {
			return 0, 0, 0, err
		}
	}
	return secs, r, umax / amax, nil
}

// BackwardError returns ||A x - b||_F / (||A||_F ||x||_F n eps) for the
// solution x of A x = b, A from gen and b from rhs, computed on the ranks:
// A and b are generated again in x's layout, r = A x - b by the
// distributed Gemm, and the norms summed tile by tile.
func BackwardError(e *lademo.Env, gen func(i, j int) float64, x *bc.Matrix) (float64, error) {
	n, nrhs := x.Dims()
	nb, xnb := x.BlockSize()
	a, err := bc.NewMatrixFunc(e.RT, n, n, nb, nb, x.Dist(), gen)
	if err != nil {
		return 0, err
	}
	r, err := bc.NewMatrixFunc(e.RT, n, nrhs, nb, xnb, x.Dist(), rhs)
	if err != nil {
		return 0, err
	}
	if err := bc.Gemm(blas.NoTrans, blas.NoTrans, 1, a, x, -1, r); err != nil {
		return 0, err
	}
	sq, err := sumSquares(e, a, x, r)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(sq[2]) / (math.Sqrt(sq[0]) * math.Sqrt(sq[1]) * float64(n) * eps), nil
}

// sumSquares returns the sum of the squares of each matrix's entries
// (collective: a task per tile on its owner, then an allreduce).
func sumSquares(e *lademo.Env, ms ...*bc.Matrix) ([]float64, error) {
	var mu sync.Mutex
	loc := make([]float64, len(ms))
	for k, m := range ms {
		mt, nt := m.Tiles()
		for j := 0; j < nt; j++ {
			for i := 0; i < mt; i++ {
				t := m.Tile(i, j)
				k := k
				if err := e.RT.Submit(func(tk *dagmpi.Task) error {
					s := 0.0
					for _, v := range t.Buf(tk) {
						s += v * v
					}
					mu.Lock()
					loc[k] += s
					mu.Unlock()
					return nil
				}, t.Read(), dagmpi.OnRank(m.Owner(i, j)), dagmpi.Name("sumsq")); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := e.RT.Wait(); err != nil {
		return nil, err
	}
	out := make([]float64, len(ms))
	mu.Lock()
	defer mu.Unlock()
	if err := mpi.Allreduce(e.Comm, loc, out, mpi.Sum); err != nil {
		return nil, err
	}
	return out, nil
}
