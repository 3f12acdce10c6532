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

// Tolerances of the LU cases, on scaled residuals and backward errors
// (LAPACK's test threshold is 30; random matrices of these orders have
// growth factors of a few units and give well under 1).
const (
	// GetrfTol bounds ||P A - L U||_F / (max(m, n) ||A||_F eps).
	GetrfTol = 30
	// GetrsTol bounds ||op(A) X - B||_F / (n ||A||_F ||X||_F eps).
	GetrsTol = 30
	// growthRelTol bounds the relative difference between the growth factor
	// of the distributed factorization and LAPACK's on the same matrix: with
	// the same pivots the entries of U differ by rounding only.
	growthRelTol = 1e-10
	// growthTournament bounds the growth factor of tournament pivoting
	// relative to partial pivoting's on the same matrix. The worst-case
	// bounds are far apart (2^(n-1) against 2^(n(log2 P + 1))), but on
	// random matrices both stay small and close (Grigori, Demmel and Xiang
	// 2011, table 2): a factor 4 leaves room and still catches a tournament
	// that picks poor pivots.
	growthTournament = 4
)

// luShapes are Shapes with square tiles (Getrf needs MB = NB) plus taller
// and wider matrices with several tile rows per process row, so that pivots
// cross process rows.
var luShapes = func() []Shape {
	out := []Shape{{37, 29, 5, 5}, {23, 37, 4, 4}}
	for _, s := range Shapes {
		out = append(out, Shape{s.M, s.N, s.NB, s.NB})
	}
	return out
}()

func init() {
	Register(Case{Name: "lu/getrf", Pruned: true, Run: getrfCase})
	Register(Case{Name: "lu/nopiv", Pruned: true, Run: getrfNoPivCase})
	Register(Case{Name: "lu/solve", Pruned: true, Run: luSolveCase})
	Register(Case{Name: "lu/singular", Pruned: true, Run: luSingularCase})
	Register(Case{Name: "lu/errors", Run: luErrors})
}

// luRandom returns the element function of a general random matrix.
func luRandom(seed int) func(i, j int) float64 {
	return func(i, j int) float64 { return hash01(i, j, seed) }
}

// luDiagDominant returns the element function of an m x n matrix that is
// strictly diagonally dominant by columns: random entries in [-0.5, 0.5)
// plus m on the diagonal.
func luDiagDominant(m int) func(i, j int) float64 {
	return func(i, j int) float64 {
		v := hash01(i, j, 17)
		if i == j {
			v += float64(m)
		}
		return v
	}
}

// luResidual returns ||P A - L U||_F / (max(m, n) ||A||_F eps) for the
// factors in f and the 0-based pivots ipiv (applied in order).
func luResidual(a, f *mat.Dense, ipiv []int) float64 {
	m, n := a.Dims()
	k := min(m, n)
	pa := mat.DenseCopyOf(a)
	for i, p := range ipiv {
		if p != i {
			ri, rp := mat.Row(nil, i, pa), mat.Row(nil, p, pa)
			pa.SetRow(i, rp)
			pa.SetRow(p, ri)
		}
	}
	l, u := mat.NewDense(m, k, nil), mat.NewDense(k, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			switch {
			case i > j:
				l.Set(i, j, f.At(i, j))
			default:
				u.Set(i, j, f.At(i, j))
				if i == j {
					l.Set(i, i, 1)
				}
			}
		}
	}
	var r mat.Dense
	r.Mul(l, u)
	r.Sub(&r, pa)
	return mat.Norm(&r, 2) / (float64(max(m, n)) * mat.Norm(a, 2) * eps)
}

// lapackLU factors the m x n matrix of f with LAPACK's DGETRF (kernels.Getrf)
// and returns the pivots, the growth factor and the error.
func lapackLU(m, n int, f func(i, j int) float64) ([]int, float64, error) {
	a := make([]float64, m*n)
	amax := 0.0
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			a[i+j*m] = f(i, j)
			amax = math.Max(amax, math.Abs(a[i+j*m]))
		}
	}
	piv := make([]int32, min(m, n))
	err := kernels.Getrf(m, n, a, max(m, 1), piv)
	umax := 0.0
	for j := 0; j < n; j++ {
		for i := 0; i <= min(j, m-1); i++ {
			umax = math.Max(umax, math.Abs(a[i+j*m]))
		}
	}
	out := make([]int, len(piv))
	for i, p := range piv {
		out[i] = int(p)
	}
	return out, umax / amax, err
}

// getrfCase factors general matrices with partial pivoting on every grid
// and checks the residual, the pivots against LAPACK's DGETRF on the whole
// matrix (the same algorithm: each panel is the whole tall block of the
// trailing matrix factored by DGETRF, so the pivots agree on every grid,
// not only on 1 x Q, barring ties, which random data do not have) and the
// growth factor.
func getrfCase(rt *dagmpi.Runtime) error {
	for _, s := range luShapes {
		m, n := s.M, s.N
		f := luRandom(5)
		wantPiv, wantGrowth, err := lapackLU(m, n, f)
		if err != nil && m*n > 0 {
			return fmt.Errorf("%v: LAPACK DGETRF: %v", s, err)
		}
		for _, g := range Grids(rt.Size()) {
			for _, pv := range []bc.Pivoting{bc.PartialPivoting, bc.TournamentPivoting} {
				if err := getrfOne(rt, s, g, pv, f, wantPiv, wantGrowth); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// getrfOne is one factorization of getrfCase. Tournament pivoting on a
// grid of one process row is partial pivoting (one candidate set: the
// panel's DGETRF pivots); on others its pivots differ and only the
// residual and the pivots' range are checked, and that the growth factor
// stays within growthTournament of partial pivoting's.
func getrfOne(rt *dagmpi.Runtime, s Shape, g bc.Cyclic2D, pv bc.Pivoting, f func(i, j int) float64, wantPiv []int, wantGrowth float64) error {
	m, n, nb := s.M, s.N, s.NB
	p, _ := g.Grid()
	same := pv == bc.PartialPivoting || p == 1
	{
		{
			a, err := bc.NewMatrixFunc(rt, m, n, nb, nb, g, f)
			if err != nil {
				return err
			}
			amax, err := bc.MaxAbs(a, blas.All)
			if err != nil {
				return err
			}
			lmax, err := bc.MaxAbs(a, blas.Lower)
			if err != nil {
				return err
			}
			wantA, wantL := 0.0, 0.0
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					wantA = math.Max(wantA, math.Abs(f(i, j)))
					if i >= j {
						wantL = math.Max(wantL, math.Abs(f(i, j)))
					}
				}
			}
			if amax != wantA || lmax != wantL {
				return fmt.Errorf("rank %d: %v %+v: MaxAbs gives %v (all), %v (lower), want %v, %v", rt.Rank(), s, g, amax, lmax, wantA, wantL)
			}
			piv, err := bc.Getrf(a, pv)
			if err != nil {
				return fmt.Errorf("%v %+v %v pivoting: Getrf: %w", s, g, pv, err)
			}
			ipiv, err := piv.Ints()
			if err != nil {
				return err
			}
			umax, err := bc.MaxAbs(a, blas.Upper)
			if err != nil {
				return err
			}
			got, err := a.Gather(0)
			if err != nil {
				return err
			}
			if len(ipiv) != min(m, n) {
				return fmt.Errorf("rank %d: %v %+v: %d pivots, want %d", rt.Rank(), s, g, len(ipiv), min(m, n))
			}
			for i := range ipiv {
				if same && ipiv[i] != wantPiv[i] {
					return fmt.Errorf("rank %d: %v %+v %v pivoting: ipiv[%d] = %d, LAPACK DGETRF gives %d", rt.Rank(), s, g, pv, i, ipiv[i], wantPiv[i])
				}
				if ipiv[i] < i || ipiv[i] >= m {
					return fmt.Errorf("rank %d: %v %+v %v pivoting: ipiv[%d] = %d outside [%d, %d)", rt.Rank(), s, g, pv, i, ipiv[i], i, m)
				}
			}
			if m*n > 0 {
				growth := umax / amax
				if same && !(math.Abs(growth-wantGrowth) <= growthRelTol*wantGrowth) {
					return fmt.Errorf("rank %d: %v %+v %v pivoting: growth factor %v, LAPACK's %v", rt.Rank(), s, g, pv, growth, wantGrowth)
				}
				if !(growth <= growthTournament*wantGrowth) {
					return fmt.Errorf("rank %d: %v %+v %v pivoting: growth factor %v, more than %v times LAPACK's %v", rt.Rank(), s, g, pv, growth, float64(growthTournament), wantGrowth)
				}
			}
			if rt.Rank() != 0 || m*n == 0 {
				return nil
			}
			if r := luResidual(Dense(m, n, f), got, ipiv); !(r < GetrfTol) {
				return fmt.Errorf("%v %+v %v pivoting: ||P A - L U|| / (max(m,n) ||A|| eps) = %.3g, want < %v", s, g, pv, r, float64(GetrfTol))
			}
		}
	}
	return nil
}

// getrfNoPivCase factors diagonally dominant matrices without pivoting.
func getrfNoPivCase(rt *dagmpi.Runtime) error {
	for _, s := range luShapes {
		m, n, nb := s.M, s.N, s.NB
		f := luDiagDominant(m)
		for _, g := range Grids(rt.Size()) {
			a, err := bc.NewMatrixFunc(rt, m, n, nb, nb, g, f)
			if err != nil {
				return err
			}
			piv, err := bc.Getrf(a, bc.NoPivoting)
			if err != nil {
				return fmt.Errorf("%v %+v: Getrf without pivoting: %w", s, g, err)
			}
			ipiv, err := piv.Ints()
			if err != nil {
				return err
			}
			for i, p := range ipiv {
				if p != i {
					return fmt.Errorf("%v %+v: no pivoting gave ipiv[%d] = %d", s, g, i, p)
				}
			}
			var x *bc.Matrix
			rhs := func(i, j int) float64 { return hash01(i, j, 4) }
			if m == n {
				// Aᵀ X = B with the factors.
				if x, err = bc.NewMatrixFunc(rt, n, 2, nb, 1, g, rhs); err != nil {
					return err
				}
				if err := bc.Getrs(blas.Trans, a, piv, x); err != nil {
					return fmt.Errorf("%v %+v: Getrs after no pivoting: %w", s, g, err)
				}
			}
			got, err := a.Gather(0)
			if err != nil {
				return err
			}
			var xd *mat.Dense
			if x != nil {
				if xd, err = x.Gather(0); err != nil {
					return err
				}
			}
			if rt.Rank() != 0 || m*n == 0 {
				continue
			}
			if r := luResidual(Dense(m, n, f), got, ipiv); !(r < GetrfTol) {
				return fmt.Errorf("%v %+v: no pivoting: ||A - L U|| / (max(m,n) ||A|| eps) = %.3g, want < %v", s, g, r, float64(GetrfTol))
			}
			if xd != nil {
				ad := Dense(n, n, f)
				var r mat.Dense
				r.Mul(ad.T(), xd)
				r.Sub(&r, Dense(n, 2, rhs))
				if res := mat.Norm(&r, 2) / (float64(n) * mat.Norm(ad, 2) * mat.Norm(xd, 2) * eps); !(res < GetrsTol) {
					return fmt.Errorf("%v %+v: no pivoting, Getrs Trans: ||Aᵀ X - B|| / (n ||A|| ||X|| eps) = %.3g, want < %v", s, g, res, float64(GetrsTol))
				}
			}
		}
	}
	return nil
}

// luSolveCase solves A X = B with Gesv and Aᵀ X = B with Getrf and Getrs
// (Trans) and checks the backward error.
func luSolveCase(rt *dagmpi.Runtime) error {
	for _, s := range luShapes {
		n, nb := s.M, s.NB
		nrhs, bnb := 3, 2
		for gi, g := range Grids(rt.Size()) {
			for _, trans := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				f := luRandom(7 + gi)
				a, err := bc.NewMatrixFunc(rt, n, n, nb, nb, g, f)
				if err != nil {
					return err
				}
				rhs := func(i, j int) float64 { return hash01(i, j, 3) }
				b, err := bc.NewMatrixFunc(rt, n, nrhs, nb, bnb, g, rhs)
				if err != nil {
					return err
				}
				if trans == blas.NoTrans {
					_, err = bc.Gesv(a, b)
				} else {
					pv := bc.PartialPivoting
					if gi%2 == 1 {
						pv = bc.TournamentPivoting
					}
					var piv *bc.Pivots
					if piv, err = bc.Getrf(a, pv); err == nil {
						err = bc.Getrs(blas.Trans, a, piv, b)
					}
				}
				if err != nil {
					return fmt.Errorf("n=%d nb=%d %+v trans=%c: %w", n, nb, g, rune(trans), err)
				}
				x, err := b.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 || n == 0 {
					continue
				}
				ad, bd := Dense(n, n, f), Dense(n, nrhs, rhs)
				var r mat.Dense
				if trans == blas.NoTrans {
					r.Mul(ad, x)
				} else {
					r.Mul(ad.T(), x)
				}
				r.Sub(&r, bd)
				res := mat.Norm(&r, 2) / (float64(n) * mat.Norm(ad, 2) * mat.Norm(x, 2) * eps)
				if !(res < GetrsTol) {
					return fmt.Errorf("n=%d nb=%d %+v trans=%c: ||op(A) X - B|| / (n ||A|| ||X|| eps) = %.3g, want < %v", n, nb, g, rune(trans), res, float64(GetrsTol))
				}
			}
		}
	}
	return nil
}

// luSingularCase zeroes column c of a general matrix (partial pivoting) or
// builds a lower triangular matrix with a zero at (c, c) (no pivoting) and
// checks that every rank gets LAPACK's INFO = c+1 from Getrf, and that the
// runtime goes on.
func luSingularCase(rt *dagmpi.Runtime) error {
	for _, tc := range []struct{ m, n, nb, c int }{{10, 10, 3, 0}, {10, 10, 3, 4}, {10, 10, 3, 9}, {16, 16, 4, 8}, {7, 7, 8, 5}, {12, 7, 3, 6}} {
		zeroCol := func(i, j int) float64 {
			if j == tc.c {
				return 0
			}
			return hash01(i, j, 9)
		}
		lower := func(i, j int) float64 {
			switch {
			case i < j:
				return 0
			case i == j && i == tc.c:
				return 0
			case i == j:
				return 2
			}
			return hash01(i, j, 9)
		}
		_, _, err := lapackLU(tc.m, tc.n, zeroCol)
		var want *kernels.ZeroPivotError
		if !errors.As(err, &want) || want.Column != tc.c+1 {
			return fmt.Errorf("%dx%d, column %d zero: LAPACK DGETRF gave %v, want INFO = %d", tc.m, tc.n, tc.c, err, tc.c+1)
		}
		for _, g := range Grids(rt.Size()) {
			for _, pv := range []bc.Pivoting{bc.PartialPivoting, bc.NoPivoting, bc.TournamentPivoting} {
				f := zeroCol
				if pv == bc.NoPivoting {
					f = lower
				}
				a, err := bc.NewMatrixFunc(rt, tc.m, tc.n, tc.nb, tc.nb, g, f)
				if err != nil {
					return err
				}
				piv, err := bc.Getrf(a, pv)
				var got *kernels.ZeroPivotError
				if !errors.As(err, &got) {
					return fmt.Errorf("rank %d: %dx%d nb=%d %+v pivoting %v, pivot %d zero: Getrf returned %v, want a ZeroPivotError", rt.Rank(), tc.m, tc.n, tc.nb, g, pv, tc.c+1, err)
				}
				if got.Column != tc.c+1 || got.M != tc.m || got.N != tc.n {
					return fmt.Errorf("rank %d: %dx%d nb=%d %+v pivoting %v: INFO = %d (%d x %d), want %d", rt.Rank(), tc.m, tc.n, tc.nb, g, pv, got.Column, got.M, got.N, tc.c+1)
				}
				if pv == bc.PartialPivoting {
					// As LAPACK, the factorization is completed.
					ipiv, err := piv.Ints()
					if err != nil {
						return err
					}
					lu, err := a.Gather(0)
					if err != nil {
						return err
					}
					if rt.Rank() == 0 {
						if r := luResidual(Dense(tc.m, tc.n, f), lu, ipiv); !(r < GetrfTol) {
							return fmt.Errorf("%dx%d %+v, singular: ||P A - L U|| / (n ||A|| eps) = %.3g, want < %v", tc.m, tc.n, g, r, float64(GetrfTol))
						}
					}
				}
				if err := rt.Wait(); err != nil {
					return fmt.Errorf("rank %d: Wait after a singular Getrf: %w", rt.Rank(), err)
				}
			}
		}
	}
	return nil
}

func luErrors(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	odd, err := bc.NewMatrix(rt, 6, 6, 2, 3, g)
	if err != nil {
		return err
	}
	if _, err := bc.Getrf(odd, bc.PartialPivoting); err == nil {
		return fmt.Errorf("Getrf with 2 x 3 tiles: no error")
	}
	a, err := bc.NewMatrixFunc(rt, 6, 6, 2, 2, g, luDiagDominant(6))
	if err != nil {
		return err
	}
	if _, err := bc.Getrf(a, bc.Pivoting(9)); err == nil {
		return fmt.Errorf("Getrf with pivoting 9: no error")
	}
	if _, err := bc.ParsePivoting("rook"); err == nil {
		return fmt.Errorf("ParsePivoting(rook): no error")
	}
	piv, err := bc.Getrf(a, bc.PartialPivoting)
	if err != nil {
		return err
	}
	b, err := bc.NewMatrix(rt, 5, 1, 2, 1, g)
	if err != nil {
		return err
	}
	if err := bc.Getrs(blas.NoTrans, a, piv, b); err == nil {
		return fmt.Errorf("Getrs with a 5-row B for a 6 x 6 A: no error")
	}
	rect, err := bc.NewMatrix(rt, 6, 4, 2, 2, g)
	if err != nil {
		return err
	}
	if _, err := bc.Gesv(rect, b); err == nil {
		return fmt.Errorf("Gesv of a 6 x 4 matrix: no error")
	}
	return rt.Wait()
}
