package cases

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Tolerances of the scaled residuals, as LAPACK's test programs use them
// (THRESH = 30).
const (
	TolFactor = 30 // ||A - L Lᵀ|| / (n ||A|| eps)
	TolSolve  = 30 // ||op(A) X - alpha B|| / (n ||A|| ||X|| eps) and the like
)

// SquareShapes are n x n matrices in nb x nb tiles that straddle tile
// boundaries: partial last tiles, n < nb, one tile, one element.
var SquareShapes = []Shape{{13, 13, 4, 4}, {16, 16, 4, 4}, {10, 10, 3, 3}, {5, 5, 8, 8}, {1, 1, 2, 2}, {24, 24, 5, 5}}

// hash01 is a deterministic value in [-0.5, 0.5) for (i, j, salt).
func hash01(i, j, salt int) float64 {
	x := uint64(i)*0x9e3779b97f4a7c15 ^ uint64(j)*0xc2b2ae3d27d4eb4f ^ uint64(salt)*0x165667b19e3779f9
	x ^= x >> 31
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 29
	return float64(x>>11)/float64(1<<53) - 0.5
}

// SPD returns element (i, j) of a symmetric positive definite n x n test
// matrix: symmetric noise plus n on the diagonal.
func SPD(n int) func(i, j int) float64 {
	return func(i, j int) float64 {
		v := hash01(min(i, j), max(i, j), 7)
		if i == j {
			v += float64(n)
		}
		return v
	}
}

func init() {
	Register(Case{Name: "potrf/factor", Pruned: true, Run: potrfFactor})
	Register(Case{Name: "potrf/not-positive-definite", Pruned: true, Run: potrfNotPD})
	Register(Case{Name: "potrf/posv", Pruned: true, Run: posvSolve})
	Register(Case{Name: "trsm/left", Pruned: true, Run: trsmLeft})
	Register(Case{Name: "syrk", Pruned: true, Run: syrkCase})
}

// triangle returns the uplo triangle of a (the rest zero).
func triangle(a *mat.Dense, uplo blas.Uplo) *mat.Dense {
	n, _ := a.Dims()
	t := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if (uplo == blas.Lower && i >= j) || (uplo == blas.Upper && i <= j) {
				t.Set(i, j, a.At(i, j))
			}
		}
	}
	return t
}

func potrfFactor(rt *dagmpi.Runtime) error {
	for _, s := range SquareShapes {
		for _, g := range Grids(rt.Size()) {
			for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
				a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, g, SPD(s.M))
				if err != nil {
					return err
				}
				if err := bc.Potrf(uplo, a); err != nil {
					return fmt.Errorf("%v %+v uplo %c: %w", s, g, uplo, err)
				}
				got, err := a.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 {
					continue
				}
				orig := Dense(s.M, s.N, SPD(s.M))
				f := triangle(got, uplo)
				var prod mat.Dense
				if uplo == blas.Lower {
					prod.Mul(f, f.T())
				} else {
					prod.Mul(f.T(), f)
				}
				prod.Sub(orig, &prod)
				res := mat.Norm(&prod, 1) / (float64(s.M) * mat.Norm(orig, 1) * Eps)
				if !(res < TolFactor) {
					return fmt.Errorf("%v grid %+v uplo %c: ||A - factor product|| / (n ||A|| eps) = %.3g, over %d", s, g, uplo, res, TolFactor)
				}
			}
		}
	}
	return nil
}

// potrfNotPD makes leading minor p+1 indefinite and checks that every rank
// gets INFO = p+1, LAPACK's answer on the whole matrix.
func potrfNotPD(rt *dagmpi.Runtime) error {
	for _, s := range SquareShapes {
		for _, p := range []int{0, s.M / 2, s.M - 1} {
			f := func(i, j int) float64 {
				if i == j && i == p {
					return -1
				}
				return SPD(s.M)(i, j)
			}
			// LAPACK's INFO on the serial matrix.
			d := Dense(s.M, s.N, f)
			col := make([]float64, s.M*s.M)
			for j := 0; j < s.M; j++ {
				for i := 0; i < s.M; i++ {
					col[i+j*s.M] = d.At(i, j)
				}
			}
			want := 0
			var npd *kernels.NotPositiveDefiniteError
			if err := kernels.Potrf(blas.Lower, s.M, col, s.M); errors.As(err, &npd) {
				want = npd.Column
			}
			g := Grids(rt.Size())[p%len(Grids(rt.Size()))]
			for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
				a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, g, f)
				if err != nil {
					return err
				}
				err = bc.Potrf(uplo, a)
				var e *bc.NotPositiveDefiniteError
				if !errors.As(err, &e) {
					return fmt.Errorf("%v pivot %d uplo %c: Potrf returned %v, want a NotPositiveDefiniteError", s, p, uplo, err)
				}
				if e.Column != want || want != p+1 {
					return fmt.Errorf("%v pivot %d uplo %c: INFO %d, LAPACK says %d (expected %d)", s, p, uplo, e.Column, want, p+1)
				}
			}
		}
	}
	return nil
}

// posvSolve solves A X = B for a few right-hand sides and checks the
// backward error.
func posvSolve(rt *dagmpi.Runtime) error {
	for _, s := range SquareShapes {
		for gi, g := range Grids(rt.Size()) {
			for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
				nrhs, rb := 3, max(1, s.NB-1)
				a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, g, SPD(s.M))
				if err != nil {
					return err
				}
				bf := func(i, j int) float64 { return hash01(i, j, 11) }
				b, err := bc.NewMatrixFunc(rt, s.M, nrhs, s.NB, rb, Grids(rt.Size())[(gi+1)%len(Grids(rt.Size()))], bf)
				if err != nil {
					return err
				}
				if err := bc.Posv(uplo, a, b); err != nil {
					return fmt.Errorf("%v %+v uplo %c: Posv: %w", s, g, uplo, err)
				}
				x, err := b.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 {
					continue
				}
				A := Dense(s.M, s.M, SPD(s.M))
				B := Dense(s.M, nrhs, bf)
				var r mat.Dense
				r.Mul(A, x)
				r.Sub(&r, B)
				res := mat.Norm(&r, 1) / (float64(s.M) * mat.Norm(A, 1) * math.Max(mat.Norm(x, 1), 1e-300) * Eps)
				if !(res < TolSolve) {
					return fmt.Errorf("%v grid %+v uplo %c: ||A X - B|| / (n ||A|| ||X|| eps) = %.3g, over %d", s, g, uplo, res, TolSolve)
				}
			}
		}
	}
	return nil
}

// trsmLeft checks the four triangular solves with alpha != 1.
func trsmLeft(rt *dagmpi.Runtime) error {
	const alpha = -1.5
	for _, s := range SquareShapes {
		g := Grids(rt.Size())[len(Grids(rt.Size()))-1]
		for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
			for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, diag := range []blas.Diag{blas.NonUnit, blas.Unit} {
					af := func(i, j int) float64 {
						if i == j {
							return 2 + hash01(i, j, 3)
						}
						return hash01(i, j, 3) / float64(s.M)
					}
					a, err := bc.NewMatrixFunc(rt, s.M, s.M, s.MB, s.NB, g, af)
					if err != nil {
						return err
					}
					bf := func(i, j int) float64 { return hash01(i, j, 5) }
					b, err := bc.NewMatrixFunc(rt, s.M, 4, s.NB, 3, g, bf)
					if err != nil {
						return err
					}
					if err := bc.Trsm(uplo, tr, diag, alpha, a, b); err != nil {
						return err
					}
					x, err := b.Gather(0)
					if err != nil {
						return err
					}
					if rt.Rank() != 0 {
						continue
					}
					A := triangle(Dense(s.M, s.M, af), uplo)
					if diag == blas.Unit {
						for i := 0; i < s.M; i++ {
							A.Set(i, i, 1)
						}
					}
					var opA mat.Matrix = A
					if tr == blas.Trans {
						opA = A.T()
					}
					var r mat.Dense
					r.Mul(opA, x)
					B := Dense(s.M, 4, bf)
					B.Scale(alpha, B)
					r.Sub(&r, B)
					res := mat.Norm(&r, 1) / (float64(s.M) * mat.Norm(A, 1) * math.Max(mat.Norm(x, 1), 1e-300) * Eps)
					if !(res < TolSolve) {
						return fmt.Errorf("%v uplo %c trans %c diag %c: ||op(A) X - alpha B|| scaled = %.3g, over %d", s, uplo, tr, diag, res, TolSolve)
					}
				}
			}
		}
	}
	return nil
}

// syrkCase checks C = alpha op(A) op(A)ᵀ + beta C on the uplo triangle.
func syrkCase(rt *dagmpi.Runtime) error {
	const alpha, beta = 0.75, -2.0
	for _, s := range SquareShapes {
		g := Grids(rt.Size())[0]
		k := s.M + 3
		for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
			for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				af := func(i, j int) float64 { return hash01(i, j, 13) }
				var a *bc.Matrix
				var err error
				if tr == blas.NoTrans {
					a, err = bc.NewMatrixFunc(rt, s.M, k, s.NB, 3, g, af)
				} else {
					a, err = bc.NewMatrixFunc(rt, k, s.M, 3, s.NB, g, af)
				}
				if err != nil {
					return err
				}
				cf := func(i, j int) float64 { return hash01(min(i, j), max(i, j), 17) }
				c, err := bc.NewMatrixFunc(rt, s.M, s.M, s.NB, s.NB, g, cf)
				if err != nil {
					return err
				}
				if err := bc.Syrk(uplo, tr, alpha, a, beta, c); err != nil {
					return err
				}
				got, err := c.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 {
					continue
				}
				var opA mat.Matrix
				if tr == blas.NoTrans {
					opA = Dense(s.M, k, af)
				} else {
					opA = Dense(k, s.M, af).T()
				}
				var want mat.Dense
				want.Mul(opA, opA.T())
				want.Scale(alpha, &want)
				C := Dense(s.M, s.M, cf)
				C.Scale(beta, C)
				want.Add(&want, C)
				tol := TolSolve * float64(k) * Eps * (mat.Norm(opA, 1)*mat.Norm(opA, 1)*alpha + 2*mat.Norm(C, 1))
				for i := 0; i < s.M; i++ {
					for j := 0; j < s.M; j++ {
						in := (uplo == blas.Lower && i >= j) || (uplo == blas.Upper && i <= j)
						if in && math.Abs(got.At(i, j)-want.At(i, j)) > tol {
							return fmt.Errorf("%v uplo %c trans %c: C(%d, %d) = %v, want %v (tolerance %.3g)", s, uplo, tr, i, j, got.At(i, j), want.At(i, j), tol)
						}
						if !in && got.At(i, j) != cf(i, j) {
							return fmt.Errorf("%v uplo %c trans %c: C(%d, %d) outside the triangle changed: %v, was %v", s, uplo, tr, i, j, got.At(i, j), cf(i, j))
						}
					}
				}
			}
		}
	}
	return nil
}
