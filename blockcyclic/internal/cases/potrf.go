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

// Tolerances of the Cholesky cases, on scaled residuals (LAPACK's test
// thresholds are 30; well-conditioned matrices give well under 1).
const (
	// PotrfTol bounds ||A - L Lᵀ||_F / (n ||A||_F eps).
	PotrfTol = 30
	// PotrsTol bounds ||A X - B||_F / (n ||A||_F ||X||_F eps).
	PotrsTol = 30
)

func init() {
	Register(Case{Name: "chol/potrf", Pruned: true, Run: potrfCase})
	Register(Case{Name: "chol/posv", Pruned: true, Run: posvCase})
	Register(Case{Name: "chol/not-pd", Pruned: true, Run: notPDCase})
	Register(Case{Name: "chol/syrk", Pruned: true, Run: syrkCase})
	Register(Case{Name: "chol/errors", Run: cholErrors})
}

// hash01 is a deterministic value in [-0.5, 0.5) from (i, j, seed).
func hash01(i, j, seed int) float64 {
	x := uint64(i)*0x9E3779B97F4A7C15 ^ uint64(j)*0xC2B2AE3D27D4EB4F ^ uint64(seed)*0x165667B19E3779F9
	x ^= x >> 31
	x *= 0xBF58476D1CE4E5B9
	x ^= x >> 29
	return float64(x>>11)/float64(1<<53) - 0.5
}

// SPD returns the element function of a symmetric positive definite n x n
// matrix: symmetric random entries plus n on the diagonal.
func SPD(n int) func(i, j int) float64 {
	return func(i, j int) float64 {
		if i > j {
			i, j = j, i
		}
		v := hash01(i, j, 7)
		if i == j {
			v += float64(n)
		}
		return v
	}
}

func uploName(u blas.Uplo) string {
	if u == blas.Lower {
		return "lower"
	}
	return "upper"
}

// cholResidual returns ||A - L Lᵀ||_F / (n ||A||_F eps) for the factor in
// the uplo triangle of f (f = U, A = Uᵀ U, for upper).
func cholResidual(uplo blas.Uplo, a, f *mat.Dense) float64 {
	n, _ := a.Dims()
	l := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			if uplo == blas.Lower {
				l.Set(i, j, f.At(i, j))
			} else {
				l.Set(i, j, f.At(j, i))
			}
		}
	}
	var r mat.Dense
	r.Mul(l, l.T())
	r.Sub(&r, a)
	return mat.Norm(&r, 2) / (float64(n) * mat.Norm(a, 2) * eps)
}

const eps = 0x1p-52

func potrfCase(rt *dagmpi.Runtime) error {
	for _, s := range Shapes {
		n, nb := s.N, s.NB
		for _, g := range Grids(rt.Size()) {
			for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
				a, err := bc.NewMatrixFunc(rt, n, n, nb, nb, g, SPD(n))
				if err != nil {
					return err
				}
				if err := bc.Potrf(uplo, a); err != nil {
					return fmt.Errorf("n=%d nb=%d %+v %s: Potrf: %w", n, nb, g, uploName(uplo), err)
				}
				got, err := a.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 {
					continue
				}
				if r := cholResidual(uplo, Dense(n, n, SPD(n)), got); !(r < PotrfTol) {
					return fmt.Errorf("n=%d nb=%d %+v %s: ||A - L Lᵀ|| / (n ||A|| eps) = %.3g, want < %v", n, nb, g, uploName(uplo), r, float64(PotrfTol))
				}
			}
		}
	}
	return nil
}

func posvCase(rt *dagmpi.Runtime) error {
	for _, s := range Shapes {
		n, nb := s.N, s.NB
		nrhs, bnb := 3, 2
		for gi, g := range Grids(rt.Size()) {
			uplo := blas.Lower
			if gi%2 == 1 {
				uplo = blas.Upper
			}
			a, err := bc.NewMatrixFunc(rt, n, n, nb, nb, g, SPD(n))
			if err != nil {
				return err
			}
			rhs := func(i, j int) float64 { return hash01(i, j, 3) }
			b, err := bc.NewMatrixFunc(rt, n, nrhs, nb, bnb, g, rhs)
			if err != nil {
				return err
			}
			if err := bc.Posv(uplo, a, b); err != nil {
				return fmt.Errorf("n=%d nb=%d %+v %s: Posv: %w", n, nb, g, uploName(uplo), err)
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
				return fmt.Errorf("n=%d nb=%d %+v %s: Posv: ||A X - B|| / (n ||A|| ||X|| eps) = %.3g, want < %v", n, nb, g, uploName(uplo), res, float64(PotrsTol))
			}
		}
	}
	return nil
}

// notPDCase makes the pivot of column c negative and checks that every rank
// gets LAPACK's INFO = c+1 from Potrf.
func notPDCase(rt *dagmpi.Runtime) error {
	for _, tc := range []struct{ n, nb, c int }{{10, 3, 0}, {10, 3, 4}, {10, 3, 9}, {16, 4, 8}, {7, 8, 5}} {
		f := func(i, j int) float64 {
			if i == j && i == tc.c {
				return -1
			}
			return SPD(tc.n)(i, j)
		}
		// LAPACK's answer on the whole matrix.
		full := make([]float64, tc.n*tc.n)
		for j := 0; j < tc.n; j++ {
			for i := 0; i < tc.n; i++ {
				full[i+j*tc.n] = f(i, j)
			}
		}
		var want *kernels.NotPositiveDefiniteError
		if err := kernels.Potrf(blas.Lower, tc.n, full, tc.n); !errors.As(err, &want) {
			return fmt.Errorf("n=%d: LAPACK DPOTRF gave %v, want not positive definite", tc.n, err)
		}
		for _, g := range Grids(rt.Size()) {
			for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
				a, err := bc.NewMatrixFunc(rt, tc.n, tc.n, tc.nb, tc.nb, g, f)
				if err != nil {
					return err
				}
				err = bc.Potrf(uplo, a)
				var got *kernels.NotPositiveDefiniteError
				if !errors.As(err, &got) {
					return fmt.Errorf("rank %d: n=%d nb=%d %+v %s, pivot %d made negative: Potrf returned %v, want a NotPositiveDefiniteError", rt.Rank(), tc.n, tc.nb, g, uploName(uplo), tc.c+1, err)
				}
				if got.Column != want.Column || got.N != tc.n {
					return fmt.Errorf("rank %d: n=%d nb=%d %+v %s: Potrf INFO = %d (N %d), LAPACK INFO = %d (N %d)", rt.Rank(), tc.n, tc.nb, g, uploName(uplo), got.Column, got.N, want.Column, tc.n)
				}
				// The runtime is still usable: the job goes on.
				if err := rt.Wait(); err != nil {
					return fmt.Errorf("rank %d: Wait after a failed Potrf: %w", rt.Rank(), err)
				}
			}
		}
	}
	return nil
}

// syrkCase checks the distributed SYRK against gonum on both triangles and
// transposes.
func syrkCase(rt *dagmpi.Runtime) error {
	n, k, nb, kb := 11, 7, 3, 2
	for _, g := range Grids(rt.Size()) {
		for _, uplo := range []blas.Uplo{blas.Lower, blas.Upper} {
			for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				am, an, amb, anb := n, k, nb, kb
				if tr == blas.Trans {
					am, an, amb, anb = k, n, kb, nb
				}
				fa := func(i, j int) float64 { return hash01(i, j, 11) }
				fc := func(i, j int) float64 { return hash01(i, j, 13) }
				a, err := bc.NewMatrixFunc(rt, am, an, amb, anb, g, fa)
				if err != nil {
					return err
				}
				c, err := bc.NewMatrixFunc(rt, n, n, nb, nb, g, fc)
				if err != nil {
					return err
				}
				if err := bc.Syrk(uplo, tr, 0.5, a, 2, c); err != nil {
					return fmt.Errorf("%+v Syrk: %w", g, err)
				}
				got, err := c.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 {
					continue
				}
				ad, want := Dense(am, an, fa), Dense(n, n, fc)
				var p mat.Dense
				if tr == blas.NoTrans {
					p.Mul(ad, ad.T())
				} else {
					p.Mul(ad.T(), ad)
				}
				p.Scale(0.5, &p)
				want.Scale(2, want)
				want.Add(want, &p)
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						w := want.At(i, j)
						if (uplo == blas.Lower && i < j) || (uplo == blas.Upper && i > j) {
							w = fc(i, j)
						}
						if d := math.Abs(got.At(i, j) - w); d > 1e-12*float64(k) {
							return fmt.Errorf("%+v Syrk %s trans=%c: C(%d,%d) = %v, want %v", g, uploName(uplo), rune(tr), i, j, got.At(i, j), w)
						}
					}
				}
			}
		}
	}
	return nil
}

func cholErrors(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	rect, err := bc.NewMatrix(rt, 4, 6, 2, 2, g)
	if err != nil {
		return err
	}
	if err := bc.Potrf(blas.Lower, rect); err == nil {
		return fmt.Errorf("Potrf of a 4 x 6 matrix: no error")
	}
	odd, err := bc.NewMatrix(rt, 6, 6, 2, 3, g)
	if err != nil {
		return err
	}
	if err := bc.Potrf(blas.Lower, odd); err == nil {
		return fmt.Errorf("Potrf with 2 x 3 tiles: no error")
	}
	sq, err := bc.NewMatrixFunc(rt, 6, 6, 2, 2, g, SPD(6))
	if err != nil {
		return err
	}
	if err := bc.Potrf('X', sq); err == nil {
		return fmt.Errorf("Potrf with uplo 'X': no error")
	}
	b, err := bc.NewMatrix(rt, 6, 1, 3, 1, g)
	if err != nil {
		return err
	}
	if err := bc.Potrs(blas.Lower, sq, b); err == nil {
		return fmt.Errorf("Potrs with B's row blocks 3 != A's 2: no error")
	}
	return rt.Wait()
}
