package cases

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

func init() {
	Register(Case{Name: "sbc/potrf", Pruned: true, Run: sbcPotrfCase})
	Register(Case{Name: "sbc/posv", Pruned: true, Run: sbcPosvCase})
	Register(Case{Name: "sbc/not-pd", Pruned: true, Run: sbcNotPDCase})
}

// SBCs returns the symmetric block-cyclic distributions that fit on size
// ranks: basic r = 2 (1 rank), extended r = 2 (2 ranks), basic r = 3
// (3 ranks); at 4 ranks the last two leave ranks without tiles.
func SBCs(size int) []bc.SBC {
	var out []bc.SBC
	for _, v := range []struct {
		r   int
		ext bool
	}{{2, false}, {2, true}, {3, false}, {4, false}} {
		d := must(bc.NewSBC(v.r, v.ext))
		if d.Size() <= size && (d.Size() == size || d.Size() > 1) {
			out = append(out, d)
		}
	}
	return out
}

func sbcString(d bc.SBC) string {
	if d.Extended() {
		return fmt.Sprintf("extended SBC r=%d (%d ranks)", d.R(), d.Size())
	}
	return fmt.Sprintf("basic SBC r=%d (%d ranks)", d.R(), d.Size())
}

// sbcShapes are the Cholesky sizes on SBC: the block-boundary shapes of
// Shapes (square), and matrices of several pattern copies with a partial
// last tile.
var sbcShapes = []Shape{{10, 10, 3, 3}, {5, 5, 8, 8}, {1, 1, 3, 3}, {16, 16, 4, 4}, {29, 29, 2, 2}, {38, 38, 3, 3}}

func sbcPotrfCase(rt *dagmpi.Runtime) error {
	for _, d := range SBCs(rt.Size()) {
		for si, s := range sbcShapes {
			n, nb := s.N, s.NB
			for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
				if si >= 4 && uplo == blas.Upper && d.Size() == 1 {
					continue // the big shapes once on one rank
				}
				a, err := bc.NewMatrixFunc(rt, n, n, nb, nb, d, SPD(n))
				if err != nil {
					return err
				}
				if err := bc.Potrf(uplo, a); err != nil {
					return fmt.Errorf("n=%d nb=%d %s %s: Potrf: %w", n, nb, sbcString(d), uploName(uplo), err)
				}
				got, err := a.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 {
					continue
				}
				if r := cholResidual(uplo, Dense(n, n, SPD(n)), got); !(r < PotrfTol) {
					return fmt.Errorf("n=%d nb=%d %s %s: ||A - L Lᵀ|| / (n ||A|| eps) = %.3g, want < %v", n, nb, sbcString(d), uploName(uplo), r, float64(PotrfTol))
				}
			}
		}
	}
	return nil
}

// sbcPosvCase solves A X = B with A on SBC and B on a 2D block-cyclic
// grid: Potrf and the two triangular solves (Trsm Left) across layouts.
func sbcPosvCase(rt *dagmpi.Runtime) error {
	grids := Grids(rt.Size())
	for di, d := range SBCs(rt.Size()) {
		for si, s := range []Shape{{11, 11, 3, 3}, {24, 24, 4, 4}} {
			n, nb := s.N, s.NB
			nrhs := 4
			uplo := blas.Lower
			if (di+si)%2 == 1 {
				uplo = blas.Upper
			}
			g := grids[(di+si)%len(grids)]
			a, err := bc.NewMatrixFunc(rt, n, n, nb, nb, d, SPD(n))
			if err != nil {
				return err
			}
			rhs := func(i, j int) float64 { return hash01(i, j, 23) }
			b, err := bc.NewMatrixFunc(rt, n, nrhs, nb, 3, g, rhs)
			if err != nil {
				return err
			}
			if err := bc.Posv(uplo, a, b); err != nil {
				return fmt.Errorf("n=%d nb=%d A on %s, B on %+v, %s: Posv: %w", n, nb, sbcString(d), g, uploName(uplo), err)
			}
			x, err := b.Gather(0)
			if err != nil {
				return err
			}
			if rt.Rank() != 0 {
				continue
			}
			ad, bd := Dense(n, n, SPD(n)), Dense(n, nrhs, rhs)
			var r mat.Dense
			r.Mul(ad, x)
			r.Sub(&r, bd)
			res := mat.Norm(&r, 2) / (float64(n) * mat.Norm(ad, 2) * mat.Norm(x, 2) * eps)
			if !(res < PotrsTol) {
				return fmt.Errorf("n=%d nb=%d A on %s, B on %+v, %s: ||A X - B|| / (n ||A|| ||X|| eps) = %.3g, want < %v", n, nb, sbcString(d), g, uploName(uplo), res, float64(PotrsTol))
			}
		}
	}
	return nil
}

// sbcNotPDCase checks that every rank gets LAPACK's INFO from Potrf on SBC.
func sbcNotPDCase(rt *dagmpi.Runtime) error {
	const n, nb = 14, 3
	for _, d := range SBCs(rt.Size()) {
		for _, c := range []int{0, 7, 13} {
			f := func(i, j int) float64 {
				if i == j && i == c {
					return -1
				}
				return SPD(n)(i, j)
			}
			for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
				a, err := bc.NewMatrixFunc(rt, n, n, nb, nb, d, f)
				if err != nil {
					return err
				}
				err = bc.Potrf(uplo, a)
				var got *kernels.NotPositiveDefiniteError
				if !errors.As(err, &got) || got.Column != c+1 {
					return fmt.Errorf("rank %d: n=%d nb=%d %s %s, pivot %d made negative: Potrf returned %v, want INFO = %d", rt.Rank(), n, nb, sbcString(d), uploName(uplo), c+1, err, c+1)
				}
				if err := rt.Wait(); err != nil {
					return fmt.Errorf("rank %d: Wait after a failed Potrf: %w", rt.Rank(), err)
				}
			}
		}
	}
	return nil
}
