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

// Tolerances of the QR cases, on LAPACK's scaled residuals (the threshold
// of LAPACK's own QR and least-squares tests is 30; these matrices give
// well under 1).
const (
	// QRTol bounds ||A - Q R||_F / (m ||A||_F eps) and ||I - Qᵀ Q||_F / (m eps)
	// (LAPACK's dqrt01).
	QRTol = 30
	// OrmqrTol bounds ||op(Q) C - Ormqr|| / (m ||C||_F eps), Q formed
	// explicitly.
	OrmqrTol = 30
	// GelsTol bounds the normal equations residual
	// ||Aᵀ (A X - B)||_F / (m ||A||_F (||A||_F ||X||_F + ||B||_F) eps) and
	// the distance to gonum's serial least squares solution,
	// ||X - X_gonum||_F / (m cond(A) ||X_gonum||_F eps), cond(A) <= 10
	// for the test matrices (diagonal-dominated).
	GelsTol = 30
)

// QRShape is a QR test size: m x n in nb x nb tiles, inner block ib.
type QRShape struct{ M, N, NB, IB int }

// QRShapes straddle block boundaries: tall, wide and square, partial last
// tiles, n < nb and m < nb, a single row or column, empty, ib = 1, ib < nb,
// ib = nb and the default (0).
var QRShapes = []QRShape{
	{9, 14, 3, 2}, {14, 9, 3, 0}, {16, 16, 4, 2}, {5, 7, 8, 3}, {7, 5, 8, 8}, {1, 1, 3, 0},
	{13, 1, 4, 1}, {1, 11, 4, 2}, {10, 10, 3, 1}, {17, 5, 2, 2}, {0, 5, 2, 0}, {6, 0, 2, 0},
}

func init() {
	Register(Case{Name: "qr/geqrf", Pruned: true, Run: geqrfCase})
	Register(Case{Name: "qr/geqrf-layouts", Pruned: true, Run: geqrfLayoutsCase})
	Register(Case{Name: "qr/ormqr", Pruned: true, Run: ormqrCase})
	Register(Case{Name: "qr/gels", Pruned: true, Run: gelsCase})
	Register(Case{Name: "qr/gels-rank-deficient", Pruned: true, Run: gelsRankCase})
	Register(Case{Name: "qr/errors", Run: qrErrors})
}

// qrMatrix is the test matrix: entries in [-0.5, 0.5), plus 2 on the
// diagonal (well conditioned in every shape).
func qrMatrix(i, j int) float64 {
	v := hash01(i, j, 17)
	if i == j {
		v += 2
	}
	return v
}

func eye(i, j int) float64 {
	if i == j {
		return 1
	}
	return 0
}

// qrVariant returns the i-th (mod 3) of the factorizations the cases
// rotate through: tile QR with the hierarchical tree, with the flat tree,
// and panel QR.
func qrVariant(i, ib int) (*bc.QROptions, string) {
	switch i % 3 {
	case 1:
		return &bc.QROptions{IB: ib, Tree: bc.FlatTree}, "tile QR, flat tree"
	case 2:
		return &bc.QROptions{Algorithm: bc.PanelQR}, "panel QR"
	}
	return &bc.QROptions{IB: ib}, "tile QR, hierarchical tree"
}

// factorQ factors qrMatrix(m x n) with Geqrf and forms Q with Ormqr on
// the identity; it returns the factors and, on rank 0, the gathered
// factored A and Q.
func factorQ(rt *dagmpi.Runtime, s QRShape, g bc.Distribution, opts *bc.QROptions) (*bc.QRFactors, *mat.Dense, *mat.Dense, error) {
	return factorQOn(rt, s, g, g, opts)
}

// factorQOn is factorQ with Q on its own distribution qd.
func factorQOn(rt *dagmpi.Runtime, s QRShape, g, qd bc.Distribution, opts *bc.QROptions) (*bc.QRFactors, *mat.Dense, *mat.Dense, error) {
	a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.NB, s.NB, g, qrMatrix)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := bc.Geqrf(a, opts)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("Geqrf: %w", err)
	}
	q, err := bc.NewMatrixFunc(rt, s.M, s.M, s.NB, s.NB, qd, eye)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := bc.Ormqr(blas.Left, blas.NoTrans, f, q); err != nil {
		return nil, nil, nil, fmt.Errorf("Ormqr: %w", err)
	}
	ga, err := a.Gather(0)
	if err != nil {
		return nil, nil, nil, err
	}
	gq, err := q.Gather(0)
	if err != nil {
		return nil, nil, nil, err
	}
	return f, ga, gq, nil
}

// qrResiduals returns ||A - Q R|| / (m ||A|| eps) and ||I - Qᵀ Q|| / (m eps)
// for the factored f (R its upper trapezoid) and Q.
func qrResiduals(a, f, q *mat.Dense) (float64, float64) {
	m, n := a.Dims()
	r := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := i; j < n; j++ {
			r.Set(i, j, f.At(i, j))
		}
	}
	var d mat.Dense
	d.Mul(q, r)
	d.Sub(&d, a)
	res := mat.Norm(&d, 2) / (float64(m) * mat.Norm(a, 2) * eps)
	var o mat.Dense
	o.Mul(q.T(), q)
	for i := 0; i < m; i++ {
		o.Set(i, i, o.At(i, i)-1)
	}
	return res, mat.Norm(&o, 2) / (float64(m) * eps)
}

func geqrfCase(rt *dagmpi.Runtime) error {
	for si, s := range QRShapes {
		for gi, g := range Grids(rt.Size()) {
			opts, algo := qrVariant(si+gi, s.IB)
			where := fmt.Sprintf("%dx%d nb=%d ib=%d %+v %s", s.M, s.N, s.NB, s.IB, g, algo)
			_, fa, q, err := factorQ(rt, s, g, opts)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if rt.Rank() != 0 || s.M == 0 || s.N == 0 {
				continue
			}
			res, orth := qrResiduals(Dense(s.M, s.N, qrMatrix), fa, q)
			if !(res < QRTol) {
				return fmt.Errorf("%s: ||A - Q R|| / (m ||A|| eps) = %.3g, want < %v", where, res, float64(QRTol))
			}
			if !(orth < QRTol) {
				return fmt.Errorf("%s: ||I - Qᵀ Q|| / (m eps) = %.3g, want < %v", where, orth, float64(QRTol))
			}
		}
	}
	return nil
}

// geqrfLayoutsCase runs Geqrf on the other layouts (1D block and cyclic,
// 2D block): the hierarchical tree groups tiles by owner whatever the
// layout. Q lives on a 2D grid.
func geqrfLayoutsCase(rt *dagmpi.Runtime) error {
	for _, s := range []QRShape{{14, 9, 3, 2}, {7, 12, 2, 0}} {
		mt, nt := (s.M+s.NB-1)/s.NB, (s.N+s.NB-1)/s.NB
		for li, d := range Layouts(rt.Size(), mt, nt) {
			opts, algo := qrVariant(li, s.IB)
			where := fmt.Sprintf("%dx%d nb=%d ib=%d %T%+v %s", s.M, s.N, s.NB, s.IB, d, d, algo)
			_, fa, q, err := factorQOn(rt, s, d, Grids(rt.Size())[0], opts)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if rt.Rank() != 0 {
				continue
			}
			res, orth := qrResiduals(Dense(s.M, s.N, qrMatrix), fa, q)
			if !(res < QRTol) || !(orth < QRTol) {
				return fmt.Errorf("%s: ||A - Q R|| / (m ||A|| eps) = %.3g, ||I - Qᵀ Q|| / (m eps) = %.3g, want both < %v", where, res, orth, float64(QRTol))
			}
		}
	}
	return nil
}

// ormqrCase checks the other three op(Q) and sides against the explicit Q
// (which qr/geqrf checks).
func ormqrCase(rt *dagmpi.Runtime) error {
	const nc, cnb = 5, 2 // the other dimension of C and its block size
	for si, s := range QRShapes {
		if s.M == 0 {
			continue
		}
		grids := Grids(rt.Size())
		g := grids[si%len(grids)]
		gc := grids[(si+1)%len(grids)]
		opts, algo := qrVariant(si, s.IB)
		where := fmt.Sprintf("%dx%d nb=%d ib=%d %+v %s, C on %+v", s.M, s.N, s.NB, s.IB, g, algo, gc)
		f, _, q, err := factorQ(rt, s, g, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		fc := func(i, j int) float64 { return hash01(i, j, 19) }
		for _, side := range []blas.Side{blas.Left, blas.Right} {
			for _, tr := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				cm, cn, cmb, cnbb := s.M, nc, s.NB, cnb
				if side == blas.Right {
					cm, cn, cmb, cnbb = nc, s.M, cnb, s.NB
				}
				c, err := bc.NewMatrixFunc(rt, cm, cn, cmb, cnbb, gc, fc)
				if err != nil {
					return err
				}
				if err := bc.Ormqr(side, tr, f, c); err != nil {
					return fmt.Errorf("%s: Ormqr(%c, %c): %w", where, side, tr, err)
				}
				got, err := c.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 {
					continue
				}
				var qo mat.Matrix = q
				if tr == blas.Trans {
					qo = q.T()
				}
				cd := Dense(cm, cn, fc)
				var want mat.Dense
				if side == blas.Left {
					want.Mul(qo, cd)
				} else {
					want.Mul(cd, qo)
				}
				want.Sub(&want, got)
				if res := mat.Norm(&want, 2) / (float64(s.M) * mat.Norm(cd, 2) * eps); !(res < OrmqrTol) {
					return fmt.Errorf("%s: Ormqr(%c, %c): ||op(Q) C - Ormqr|| / (m ||C|| eps) = %.3g, want < %v", where, side, tr, res, float64(OrmqrTol))
				}
			}
		}
	}
	return nil
}

func gelsCase(rt *dagmpi.Runtime) error {
	const nrhs, bnb = 3, 2
	rhs := func(i, j int) float64 { return hash01(i, j, 23) }
	for si, s := range QRShapes {
		if s.M < s.N || s.N == 0 {
			continue
		}
		for gi, g := range Grids(rt.Size()) {
			opts, algo := qrVariant(si+gi, s.IB)
			gb := Grids(rt.Size())[(gi+1)%len(Grids(rt.Size()))]
			where := fmt.Sprintf("%dx%d nb=%d ib=%d %+v %s, B on %+v", s.M, s.N, s.NB, s.IB, g, algo, gb)
			a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.NB, s.NB, g, qrMatrix)
			if err != nil {
				return err
			}
			b, err := bc.NewMatrixFunc(rt, s.M, nrhs, s.NB, bnb, gb, rhs)
			if err != nil {
				return err
			}
			if err := bc.Gels(blas.NoTrans, a, b, opts); err != nil {
				return fmt.Errorf("%s: Gels: %w", where, err)
			}
			got, err := b.Gather(0)
			if err != nil {
				return err
			}
			if rt.Rank() != 0 {
				continue
			}
			ad, bd := Dense(s.M, s.N, qrMatrix), Dense(s.M, nrhs, rhs)
			x := mat.DenseCopyOf(got.Slice(0, s.N, 0, nrhs))
			var r, atr mat.Dense
			r.Mul(ad, x)
			r.Sub(&r, bd)
			atr.Mul(ad.T(), &r)
			na := mat.Norm(ad, 2)
			m := float64(s.M)
			if res := mat.Norm(&atr, 2) / (m * na * (na*mat.Norm(x, 2) + mat.Norm(bd, 2)) * eps); !(res < GelsTol) {
				return fmt.Errorf("%s: ||Aᵀ (A X - B)|| / (m ||A|| (||A|| ||X|| + ||B||) eps) = %.3g, want < %v", where, res, float64(GelsTol))
			}
			var want mat.Dense
			if err := want.Solve(ad, bd); err != nil {
				return fmt.Errorf("%s: gonum's least squares: %v", where, err)
			}
			cond := mat.Cond(ad, 2)
			if !(cond <= 10) {
				return fmt.Errorf("%s: test matrix has condition number %.3g, the tolerance assumes <= 10", where, cond)
			}
			var d mat.Dense
			d.Sub(x, &want)
			if res := mat.Norm(&d, 2) / (m * cond * mat.Norm(&want, 2) * eps); !(res < GelsTol) {
				return fmt.Errorf("%s: ||X - X_gonum|| / (m cond(A) ||X_gonum|| eps) = %.3g, want < %v", where, res, float64(GelsTol))
			}
			// Rows n..m-1 of B hold Qᵀ B's rest: its norm is the residual's.
			if s.M > s.N {
				rest := mat.Norm(got.Slice(s.N, s.M, 0, nrhs), 2)
				if d := math.Abs(rest - mat.Norm(&r, 2)); d > 1e-12*math.Max(1, rest) {
					return fmt.Errorf("%s: rows n..m of the result have norm %v, the residual %v", where, rest, mat.Norm(&r, 2))
				}
			}
		}
	}
	return nil
}

// gelsRankCase zeroes column c of A: R(c, c) is then exactly zero and every
// rank must get LAPACK's INFO = c+1 from Gels.
func gelsRankCase(rt *dagmpi.Runtime) error {
	for _, tc := range []struct{ m, n, nb, c int }{{10, 7, 3, 0}, {10, 7, 3, 4}, {9, 9, 2, 8}, {5, 4, 8, 2}} {
		f := func(i, j int) float64 {
			if j == tc.c {
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
			b, err := bc.NewMatrixFunc(rt, tc.m, 2, tc.nb, 2, g, qrMatrix)
			if err != nil {
				return err
			}
			err = bc.Gels(blas.NoTrans, a, b, opts)
			var got *kernels.SingularError
			if !errors.As(err, &got) || got.Index != tc.c+1 || got.N != tc.n {
				return fmt.Errorf("rank %d: %dx%d nb=%d %+v %s, column %d zero: Gels returned %v, want INFO = %d", rt.Rank(), tc.m, tc.n, tc.nb, g, algo, tc.c, err, tc.c+1)
			}
			if err := rt.Wait(); err != nil {
				return fmt.Errorf("rank %d: Wait after a failed Gels: %w", rt.Rank(), err)
			}
		}
	}
	return nil
}

func qrErrors(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	odd, err := bc.NewMatrix(rt, 6, 6, 2, 3, g)
	if err != nil {
		return err
	}
	if _, err := bc.Geqrf(odd, nil); err == nil {
		return fmt.Errorf("Geqrf with 2 x 3 tiles: no error")
	}
	a, err := bc.NewMatrixFunc(rt, 6, 4, 2, 2, g, qrMatrix)
	if err != nil {
		return err
	}
	if _, err := bc.Geqrf(a, &bc.QROptions{IB: -1}); err == nil {
		return fmt.Errorf("Geqrf with IB -1: no error")
	}
	if _, err := bc.Geqrf(a, &bc.QROptions{Tree: 7}); err == nil {
		return fmt.Errorf("Geqrf with tree 7: no error")
	}
	if _, err := bc.Geqrf(a, &bc.QROptions{Algorithm: 7}); err == nil {
		return fmt.Errorf("Geqrf with algorithm 7: no error")
	}
	f, err := bc.Geqrf(a, nil)
	if err != nil {
		return err
	}
	c, err := bc.NewMatrix(rt, 5, 3, 2, 2, g)
	if err != nil {
		return err
	}
	if err := bc.Ormqr(blas.Left, blas.Trans, f, c); err == nil {
		return fmt.Errorf("Ormqr with C of 5 rows for Q of order 6: no error")
	}
	if err := bc.Ormqr('X', blas.Trans, f, c); err == nil {
		return fmt.Errorf("Ormqr with side 'X': no error")
	}
	wide, err := bc.NewMatrix(rt, 4, 6, 2, 2, g)
	if err != nil {
		return err
	}
	b, err := bc.NewMatrix(rt, 4, 1, 2, 1, g)
	if err != nil {
		return err
	}
	if err := bc.Gels(blas.NoTrans, wide, b, nil); err == nil {
		return fmt.Errorf("Gels with a 4 x 6 A and a B of 4 rows (needs max(m, n) = 6): no error")
	}
	b3, err := bc.NewMatrix(rt, 6, 1, 3, 1, g)
	if err != nil {
		return err
	}
	if err := bc.Gels(blas.NoTrans, a, b3, nil); err == nil {
		return fmt.Errorf("Gels with B's row blocks 3 != A's 2: no error")
	}
	return rt.Wait()
}
