package cases

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Tolerances of the Gels cases beyond qr.go's GelsTol (which bounds the
// least squares checks and the distance to LAPACK's solution).
const (
	// MinNormTol bounds, for the minimum norm solution X of the wide
	// op(A) X = B, the residual ||op(A) X - B||_F / (max(m, n) ||A||_F
	// ||X||_F eps) (LAPACK's dqrt16 test ratio, threshold 30 there) and the
	// part of X in op(A)'s null space, ||X - op(A)ᵀ (op(A) op(A)ᵀ)⁻¹ op(A) X||_F
	// / (max(m, n) cond(A) ||X||_F eps), zero for the exact solution.
	MinNormTol = 30
)

func init() {
	Register(Case{Name: "gels/trans", Pruned: true, Run: gelsTransCase})
	Register(Case{Name: "gels/layouts", Pruned: true, Run: gelsLayoutsCase})
	Register(Case{Name: "gels/rank-deficient", Pruned: true, Run: gelsWideRankCase})
	Register(Case{Name: "gels/errors", Run: gelsErrors})
}

// gelsShapes are QRShapes plus wide shapes where m is a whole number of
// tiles and where it is one tile exactly.
var gelsShapes = append(QRShapes[:len(QRShapes):len(QRShapes)], QRShape{4, 13, 4, 0}, QRShape{6, 9, 3, 1}, QRShape{2, 2, 1, 1})

func gelsRHS(i, j int) float64 { return hash01(i, j, 29) }

// gelsRun solves op(A) X = B for the test matrix A (m x n) on grid g, B
// on grid gb, with the rows of B after the right hand sides NaN (Gels must
// not read them), and returns on rank 0 the gathered B and the right hand
// sides.
func gelsRun(rt *dagmpi.Runtime, trans blas.Transpose, s QRShape, g, gb bc.Distribution, opts *bc.QROptions, nrhs, bnb int) (got, rhs *mat.Dense, err error) {
	p := s.M // rows of op(A)
	if trans == blas.Trans {
		p = s.N
	}
	rows := max(s.M, s.N)
	b0 := func(i, j int) float64 {
		if i >= p {
			return math.NaN()
		}
		return gelsRHS(i, j)
	}
	a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.NB, s.NB, g, qrMatrix)
	if err != nil {
		return nil, nil, err
	}
	b, err := bc.NewMatrixFunc(rt, rows, nrhs, s.NB, bnb, gb, b0)
	if err != nil {
		return nil, nil, err
	}
	if err := bc.Gels(trans, a, b, opts); err != nil {
		return nil, nil, fmt.Errorf("Gels: %w", err)
	}
	got, err = b.Gather(0)
	if err != nil {
		return nil, nil, err
	}
	if rt.Rank() != 0 {
		return nil, nil, nil
	}
	return got, Dense(p, nrhs, gelsRHS), nil
}

// checkGels checks the result got of Gels(trans) for the m x n ad and the
// right hand sides rhs against the bounds of GelsTol and MinNormTol, and
// against gonum's serial lapack64.Gels.
func checkGels(trans blas.Transpose, ad, rhs, got *mat.Dense) error {
	m, n := ad.Dims()
	var op mat.Matrix = ad
	p, q := m, n
	if trans == blas.Trans {
		op, p, q = ad.T(), n, m
	}
	nrhs := rhs.RawMatrix().Cols
	rows := max(m, n)
	if r, c := got.Dims(); r != rows || c != nrhs {
		return fmt.Errorf("result is %d x %d, want %d x %d", r, c, rows, nrhs)
	}
	x := mat.DenseCopyOf(got.Slice(0, q, 0, nrhs))
	// LAPACK's answer, from B padded to max(m, n) rows.
	ref := mat.NewDense(rows, nrhs, nil)
	ref.Slice(0, p, 0, nrhs).(*mat.Dense).Copy(rhs)
	ac := mat.DenseCopyOf(ad)
	work := make([]float64, 1)
	lapack64.Gels(trans, ac.RawMatrix(), ref.RawMatrix(), work, -1)
	work = make([]float64, int(work[0]))
	if !lapack64.Gels(trans, ac.RawMatrix(), ref.RawMatrix(), work, len(work)) {
		return fmt.Errorf("gonum's Gels: A is singular")
	}
	want := mat.DenseCopyOf(ref.Slice(0, q, 0, nrhs))
	cond := mat.Cond(ad, 2)
	if !(cond <= 10) {
		return fmt.Errorf("test matrix has condition number %.3g, the tolerances assume <= 10", cond)
	}
	na := mat.Norm(ad, 2)
	mx := float64(rows)
	var d mat.Dense
	d.Sub(x, want)
	if res := mat.Norm(&d, 2) / (mx * cond * mat.Norm(want, 2) * eps); !(res < GelsTol) {
		return fmt.Errorf("||X - X_lapack|| / (max(m, n) cond(A) ||X_lapack|| eps) = %.3g, want < %v", res, float64(GelsTol))
	}
	var r mat.Dense
	r.Mul(op, x)
	r.Sub(&r, rhs)
	if p >= q {
		// Least squares: the residual is orthogonal to op(A)'s columns,
		// and the rows after X hold its components.
		var atr mat.Dense
		atr.Mul(op.T(), &r)
		if res := mat.Norm(&atr, 2) / (mx * na * (na*mat.Norm(x, 2) + mat.Norm(rhs, 2)) * eps); !(res < GelsTol) {
			return fmt.Errorf("||op(A)ᵀ (op(A) X - B)|| / (max(m, n) ||A|| (||A|| ||X|| + ||B||) eps) = %.3g, want < %v", res, float64(GelsTol))
		}
		if p > q {
			rest := mat.Norm(got.Slice(q, p, 0, nrhs), 2)
			if d := math.Abs(rest - mat.Norm(&r, 2)); !(d <= 1e-12*math.Max(1, rest)) {
				return fmt.Errorf("rows %d..%d of the result have norm %v, the residual %v", q, p, rest, mat.Norm(&r, 2))
			}
		}
		return nil
	}
	// Minimum norm: op(A) X = B, and X has no part in op(A)'s null space.
	nx := mat.Norm(x, 2)
	if res := mat.Norm(&r, 2) / (mx * na * nx * eps); !(res < MinNormTol) {
		return fmt.Errorf("||op(A) X - B|| / (max(m, n) ||A|| ||X|| eps) = %.3g, want < %v", res, float64(MinNormTol))
	}
	if res := mat.Norm(nullPart(op, x), 2) / (mx * cond * nx * eps); !(res < MinNormTol) {
		return fmt.Errorf("||X - op(A)ᵀ (op(A) op(A)ᵀ)⁻¹ op(A) X|| / (max(m, n) cond(A) ||X|| eps) = %.3g, want < %v (not the minimum norm solution)", res, float64(MinNormTol))
	}
	return nil
}

// nullPart returns the part of x in the null space of the wide op:
// x - opᵀ (op opᵀ)⁻¹ op x.
func nullPart(op mat.Matrix, x *mat.Dense) *mat.Dense {
	var g, ox, z, proj mat.Dense
	g.Mul(op, op.T())
	ox.Mul(op, x)
	if err := z.Solve(&g, &ox); err != nil {
		panic(err) // op has full row rank in the tests (cond <= 10)
	}
	proj.Mul(op.T(), &z)
	proj.Sub(x, &proj)
	return &proj
}

// corrupt returns a wrong answer that checkGels must reject: for a wide
// op(A) X = B, X plus a null space vector (it still solves the system,
// but is not the minimum norm solution); otherwise X with one entry off
// by a relative 1e-8.
func corrupt(trans blas.Transpose, ad, got *mat.Dense) *mat.Dense {
	m, n := ad.Dims()
	var op mat.Matrix = ad
	p, q := m, n
	if trans == blas.Trans {
		op, p, q = ad.T(), n, m
	}
	bad := mat.DenseCopyOf(got)
	x := bad.Slice(0, q, 0, bad.RawMatrix().Cols).(*mat.Dense)
	scale := 1e-8 * mat.Norm(x, 2)
	if p >= q {
		x.Set(0, 0, x.At(0, 0)+scale)
		return bad
	}
	e := mat.NewDense(q, 1, nil)
	e.Set(q-1, 0, 1)
	v := nullPart(op, e)
	v.Scale(scale/mat.Norm(v, 2), v)
	for i := 0; i < q; i++ {
		x.Set(i, 0, x.At(i, 0)+v.At(i, 0))
	}
	return bad
}

// gelsTransCase runs both trans on every shape and grid: for blas.NoTrans
// the wide shapes (qr/gels has the tall ones), for blas.Trans all of them.
func gelsTransCase(rt *dagmpi.Runtime) error {
	const nrhs, bnb = 3, 2
	grids := Grids(rt.Size())
	selfTested := map[string]bool{}
	for si, s := range gelsShapes {
		for _, trans := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			if trans == blas.NoTrans && s.M >= s.N {
				continue
			}
			for gi, g := range grids {
				opts, algo := qrVariant(si+gi, s.IB)
				gb := grids[(gi+1)%len(grids)]
				where := fmt.Sprintf("Gels(%c) %dx%d nb=%d ib=%d %+v %s, B on %+v", trans, s.M, s.N, s.NB, s.IB, g, algo, gb)
				got, rhs, err := gelsRun(rt, trans, s, g, gb, opts, nrhs, bnb)
				if err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				if rt.Rank() != 0 {
					continue
				}
				if s.M == 0 || s.N == 0 {
					if err := checkEmptyGels(trans, s, got); err != nil {
						return fmt.Errorf("%s: %w", where, err)
					}
					continue
				}
				ad := Dense(s.M, s.N, qrMatrix)
				if err := checkGels(trans, ad, rhs, got); err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				// Once per kind of problem: a wrong answer fails the checks.
				kind := fmt.Sprintf("%c %v", trans, s.M >= s.N)
				if !selfTested[kind] {
					selfTested[kind] = true
					if checkGels(trans, ad, rhs, corrupt(trans, ad, got)) == nil {
						return fmt.Errorf("%s: the checks accept a corrupted solution", where)
					}
				}
			}
		}
	}
	return nil
}

// checkEmptyGels checks the empty problems: an empty minimum norm problem
// has X = 0 (B's n rows zeroed); an empty least squares problem leaves B
// (its own residual) as it was.
func checkEmptyGels(trans blas.Transpose, s QRShape, got *mat.Dense) error {
	p, q := s.M, s.N
	if trans == blas.Trans {
		p, q = s.N, s.M
	}
	r, c := got.Dims()
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			want := 0.0
			if p >= q {
				want = gelsRHS(i, j)
			}
			if got.At(i, j) != want {
				return fmt.Errorf("empty %d x %d problem: B(%d, %d) = %v, want %v", p, q, i, j, got.At(i, j), want)
			}
		}
	}
	return nil
}

// gelsLayoutsCase solves with A on every kind of layout (A's transpose on
// TransposedDist's layout of it) and B on the first grid.
func gelsLayoutsCase(rt *dagmpi.Runtime) error {
	s := QRShape{7, 12, 2, 0}
	mt, nt := (s.M+s.NB-1)/s.NB, (s.N+s.NB-1)/s.NB
	for li, d := range Layouts(rt.Size(), mt, nt) {
		for _, trans := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			opts, algo := qrVariant(li, s.IB)
			where := fmt.Sprintf("Gels(%c) %dx%d nb=%d %T%+v %s", trans, s.M, s.N, s.NB, d, d, algo)
			got, rhs, err := gelsRun(rt, trans, s, d, Grids(rt.Size())[0], opts, 2, 3)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if rt.Rank() != 0 {
				continue
			}
			if err := checkGels(trans, Dense(s.M, s.N, qrMatrix), rhs, got); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
		}
	}
	return nil
}

// gelsWideRankCase zeroes row c of a wide A (column c of Aᵀ, which Gels
// factors) or column c of a tall A solved with blas.Trans: R(c, c) is
// then exactly zero and every rank must get LAPACK's INFO = c+1.
func gelsWideRankCase(rt *dagmpi.Runtime) error {
	for _, tc := range []struct {
		trans       blas.Transpose
		m, n, nb, c int
	}{
		{blas.NoTrans, 7, 10, 3, 0}, {blas.NoTrans, 7, 10, 3, 4}, {blas.NoTrans, 5, 9, 2, 4}, {blas.NoTrans, 4, 5, 8, 2},
		{blas.Trans, 10, 7, 3, 5}, {blas.Trans, 9, 9, 2, 8}, {blas.Trans, 7, 10, 3, 6},
	} {
		f := func(i, j int) float64 {
			if tc.m < tc.n && i == tc.c || tc.m >= tc.n && j == tc.c {
				return 0
			}
			return qrMatrix(i, j)
		}
		for gi, g := range Grids(rt.Size()) {
			opts, algo := qrVariant(gi, 0)
			a, err := bc.NewMatrixFunc(rt, tc.m, tc.n, tc.nb, tc.nb, g, f)
			if err != nil {
				return err
			}
			b, err := bc.NewMatrixFunc(rt, max(tc.m, tc.n), 2, tc.nb, 2, g, qrMatrix)
			if err != nil {
				return err
			}
			err = bc.Gels(tc.trans, a, b, opts)
			var got *kernels.SingularError
			if !errors.As(err, &got) || got.Index != tc.c+1 || got.N != min(tc.m, tc.n) {
				return fmt.Errorf("rank %d: Gels(%c) %dx%d nb=%d %+v %s, %s %d zero: Gels returned %v, want INFO = %d", rt.Rank(), tc.trans, tc.m, tc.n, tc.nb, g, algo,
					map[bool]string{true: "row", false: "column"}[tc.m < tc.n], tc.c, err, tc.c+1)
			}
			if err := rt.Wait(); err != nil {
				return fmt.Errorf("rank %d: Wait after a failed Gels: %w", rt.Rank(), err)
			}
		}
	}
	return nil
}

// gelsErrors checks that misuse of Gels is an error
// naming what is wrong, on every rank, before any task is submitted.
func gelsErrors(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	a, err := bc.NewMatrixFunc(rt, 4, 6, 2, 2, g, qrMatrix)
	if err != nil {
		return err
	}
	b, err := bc.NewMatrix(rt, 6, 2, 2, 1, g)
	if err != nil {
		return err
	}
	short, err := bc.NewMatrix(rt, 4, 2, 2, 1, g) // the m rows of B, not max(m, n)
	if err != nil {
		return err
	}
	b3, err := bc.NewMatrix(rt, 6, 2, 3, 1, g)
	if err != nil {
		return err
	}
	odd, err := bc.NewMatrix(rt, 4, 6, 2, 3, g)
	if err != nil {
		return err
	}
	alien, closeAlien, err := alienMatrix(6, 2, 2, 1)
	if err != nil {
		return err
	}
	defer closeAlien()
	for _, tc := range []struct {
		what string
		err  error
		want []string // substrings the message must have
	}{
		{"Gels nil A", bc.Gels(blas.NoTrans, nil, b, nil), []string{"nil matrix A"}},
		{"Gels nil B", bc.Gels(blas.NoTrans, a, nil, nil), []string{"nil matrix B"}},
		{"Gels trans 'X'", bc.Gels('X', a, b, nil), []string{"trans"}},
		{"Gels B of m rows", bc.Gels(blas.NoTrans, a, short, nil), []string{"4 x 6", "B is 4 x 2", "max(m, n) = 6 rows"}},
		{"Gels B of m rows, Trans", bc.Gels(blas.Trans, a, short, nil), []string{"max(m, n) = 6 rows"}},
		{"Gels B's row blocks", bc.Gels(blas.NoTrans, a, b3, nil), []string{"3 x 1 tiles", "blocks of 2"}},
		{"Gels non-square tiles", bc.Gels(blas.NoTrans, odd, b, nil), []string{"2 x 3 tiles", "square tiles"}},
		{"Gels other Runtime", bc.Gels(blas.NoTrans, a, alien, nil), []string{"different Runtimes"}},
	} {
		if tc.err == nil {
			return fmt.Errorf("%s: no error", tc.what)
		}
		for _, s := range tc.want {
			if !strings.Contains(tc.err.Error(), s) {
				return fmt.Errorf("%s: error %q does not say %q", tc.what, tc.err, s)
			}
		}
	}
	return rt.Wait()
}
