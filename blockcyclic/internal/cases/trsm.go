package cases

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/dagmpi"
)

// TrsmTol bounds the scaled residual of a distributed triangular solve,
//
//	||op(A) X - alpha B||_F / (||A||_F ||X||_F n eps)   (side Left)
//	||X op(A) - alpha B||_F / (||A||_F ||X||_F n eps)   (side Right),
//
// with A the triangle actually used (ones on the diagonal for blas.Unit).
// Substitution is backward stable with a bound of order n eps on this
// quotient (Higham, Accuracy and Stability of Numerical Algorithms, 8.1);
// 30 is LAPACK's test threshold, the values seen are well under 1.
const TrsmTol = 30

// trsmShape is a triangular solve: A is n x n in nb x nb tiles; B has
// other = nrhs columns (Left) or rows (Right) in blocks of ob.
type trsmShape struct{ n, nb, other, ob int }

// trsmShapes straddle block boundaries: partial last tiles, n < nb, one
// tile, a single right-hand side, and an empty A.
var trsmShapes = []trsmShape{{10, 3, 5, 2}, {7, 8, 3, 4}, {12, 4, 1, 1}, {1, 2, 4, 3}, {0, 2, 3, 2}}

func init() {
	Register(Case{Name: "trsm/all", Pruned: true, Run: trsmCase})
	Register(Case{Name: "trsm/errors", Run: trsmErrors})
}

// triangle returns the element function of an n x n matrix whose uplo
// triangle is well conditioned for substitution: off-diagonal entries in
// [-0.5, 0.5) / n, diagonal entries 1 + |h| (blas.NonUnit). The other
// triangle holds junk that must not be read; so does the diagonal with
// blas.Unit, which must be taken as ones.
func triangle(n int, uplo blas.Uplo, diag blas.Diag) func(i, j int) float64 {
	return func(i, j int) float64 {
		h := hash01(i, j, 17)
		switch {
		case i == j && diag == blas.Unit:
			return 1e3 + h // never read
		case i == j:
			return 1.5 + h
		case (uplo == blas.Lower) != (i > j):
			return 1e6 * h // the other triangle, never read
		}
		return h / float64(max(n, 1))
	}
}

// usedTriangle is the triangle Trsm works with, as gonum's mat.Dense.
func usedTriangle(n int, uplo blas.Uplo, diag blas.Diag) *mat.Dense {
	f := triangle(n, uplo, diag)
	return Dense(n, n, func(i, j int) float64 {
		switch {
		case i == j && diag == blas.Unit:
			return 1
		case i != j && (uplo == blas.Lower) != (i > j):
			return 0
		}
		return f(i, j)
	})
}

// trsmCase solves every side, uplo, trans and diag combination on every
// shape, cycling through the grids (each combination meets several grids
// and each grid every side), and checks the scaled residual on rank 0.
func trsmCase(rt *dagmpi.Runtime) error {
	grids := Grids(rt.Size())
	const alpha = 1.5
	combo := 0
	for _, side := range []blas.Side{blas.Left, blas.Right} {
		for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
			for _, trans := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, diag := range []blas.Diag{blas.NonUnit, blas.Unit} {
					for si, s := range trsmShapes {
						g := grids[(combo+si)%len(grids)]
						if err := trsmOne(rt, side, uplo, trans, diag, alpha, s, g); err != nil {
							return err
						}
					}
					combo++
				}
			}
		}
	}
	return nil
}

func trsmOne(rt *dagmpi.Runtime, side blas.Side, uplo blas.Uplo, trans blas.Transpose, diag blas.Diag, alpha float64, s trsmShape, g bc.Cyclic2D) error {
	name := fmt.Sprintf("Trsm side=%c uplo=%c trans=%c diag=%c n=%d nb=%d, B %d %s in blocks of %d, %+v",
		rune(side), rune(uplo), rune(trans), rune(diag), s.n, s.nb, s.other, map[blas.Side]string{blas.Left: "columns", blas.Right: "rows"}[side], s.ob, g)
	a, err := bc.NewMatrixFunc(rt, s.n, s.n, s.nb, s.nb, g, triangle(s.n, uplo, diag))
	if err != nil {
		return err
	}
	bm, bn, bmb, bnb := s.n, s.other, s.nb, s.ob
	if side == blas.Right {
		bm, bn, bmb, bnb = s.other, s.n, s.ob, s.nb
	}
	rhs := func(i, j int) float64 { return hash01(i, j, 19) }
	b, err := bc.NewMatrixFunc(rt, bm, bn, bmb, bnb, g, rhs)
	if err != nil {
		return err
	}
	if err := bc.Trsm(side, uplo, trans, diag, alpha, a, b); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	x, err := b.Gather(0)
	if err != nil {
		return err
	}
	if rt.Rank() != 0 || s.n == 0 {
		return nil
	}
	at := usedTriangle(s.n, uplo, diag)
	var op mat.Matrix = at
	if trans == blas.Trans {
		op = at.T()
	}
	var r mat.Dense
	if side == blas.Left {
		r.Mul(op, x)
	} else {
		r.Mul(x, op)
	}
	bd := Dense(bm, bn, rhs)
	bd.Scale(alpha, bd)
	r.Sub(&r, bd)
	res := mat.Norm(&r, 2) / (mat.Norm(at, 2) * mat.Norm(x, 2) * float64(s.n) * eps)
	if !(res < TrsmTol) {
		return fmt.Errorf("%s: ||op(A) X - alpha B|| / (||A|| ||X|| n eps) = %.3g, want < %v", name, res, float64(TrsmTol))
	}
	return nil
}

// trsmErrors checks that bad arguments are refused, on every rank.
func trsmErrors(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	a, err := bc.NewMatrixFunc(rt, 6, 6, 2, 2, g, triangle(6, blas.Lower, blas.NonUnit))
	if err != nil {
		return err
	}
	left, err := bc.NewMatrix(rt, 6, 3, 2, 2, g)
	if err != nil {
		return err
	}
	right, err := bc.NewMatrix(rt, 3, 6, 2, 2, g)
	if err != nil {
		return err
	}
	for _, c := range []struct {
		what  string
		side  blas.Side
		uplo  blas.Uplo
		trans blas.Transpose
		diag  blas.Diag
		b     *bc.Matrix
	}{
		{"side 'X'", 'X', blas.Lower, blas.NoTrans, blas.NonUnit, left},
		{"uplo 'X'", blas.Left, 'X', blas.NoTrans, blas.NonUnit, left},
		{"trans 'X'", blas.Right, blas.Lower, 'X', blas.NonUnit, right},
		{"diag 'X'", blas.Left, blas.Lower, blas.NoTrans, 'X', left},
		{"side Left with B 3 x 6", blas.Left, blas.Lower, blas.NoTrans, blas.NonUnit, right},
		{"side Right with B 6 x 3", blas.Right, blas.Lower, blas.NoTrans, blas.NonUnit, left},
		{"nil B", blas.Right, blas.Upper, blas.Trans, blas.Unit, nil},
	} {
		if err := bc.Trsm(c.side, c.uplo, c.trans, c.diag, 1, a, c.b); err == nil {
			return fmt.Errorf("Trsm with %s: no error", c.what)
		}
	}
	// Right with B's column blocks 3 != A's 2.
	odd, err := bc.NewMatrix(rt, 3, 6, 2, 3, g)
	if err != nil {
		return err
	}
	if err := bc.Trsm(blas.Right, blas.Lower, blas.NoTrans, blas.NonUnit, 1, a, odd); err == nil {
		return fmt.Errorf("Trsm Right with B's column blocks 3 != A's 2: no error")
	}
	return rt.Wait()
}
