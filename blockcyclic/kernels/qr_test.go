package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// QR tolerances. qrTol bounds LAPACK's scaled residuals ||A - Q R|| / (m
// ||A|| eps) and ||I - Qᵀ Q|| / (m eps) (the threshold of LAPACK's own QR
// tests, dqrt01, is 30). refTol bounds the difference between OpenBLAS's
// blocked LAPACK and the one-reflector-at-a-time reference on random
// [-1, 1] data: the same reflectors up to rounding, which a few hundred
// ulps of the entries' size covers with room to spare at these orders.
const (
	qrTol  = 30
	refTol = 1e-12
)

var ibs = []int{1, 3, 64}

// frob returns the Frobenius norm of the r x c part of x minus y (y may be
// the zero array{}).
func frob(x, y array) float64 {
	s := 0.0
	for j := 0; j < x.c; j++ {
		for i := 0; i < x.r; i++ {
			d := x.at(i, j)
			if y.a != nil {
				d -= y.at(i, j)
			}
			s += d * d
		}
	}
	return math.Sqrt(s)
}

func identity(n int) array {
	x := newArray(rand.New(rand.NewPCG(0, 0)), n, n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			x.set(i, j, 0)
		}
		x.set(j, j, 1)
	}
	return x
}

// mul returns op(x) y as an array.
func mul(tx blas.Transpose, x, y array) array {
	r, k := x.r, x.c
	if tx == blas.Trans {
		r, k = k, r
	}
	z := newArray(rand.New(rand.NewPCG(0, 0)), r, y.c)
	for j := 0; j < y.c; j++ {
		for i := 0; i < r; i++ {
			s := 0.0
			for l := 0; l < k; l++ {
				s += op(tx, x, i, l) * y.at(l, j)
			}
			z.set(i, j, s)
		}
	}
	return z
}

func newT(ib, k int) array {
	return newArray(rand.New(rand.NewPCG(9, 9)), max(ib, 1), k)
}

// checkQR checks the factorization f of a: Q formed by gemqrt on the
// identity, R the upper trapezoid of f.
func checkQR(t *testing.T, what string, a, f, tt array, ib int) {
	t.Helper()
	m, n := a.r, a.c
	k := min(m, n)
	q := identity(m)
	Gemqrt(blas.Left, blas.NoTrans, m, m, k, ib, f.a, f.ld, tt.a, tt.ld, q.a, q.ld)
	r := newArray(rand.New(rand.NewPCG(0, 0)), m, n)
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			v := 0.0
			if i <= j {
				v = f.at(i, j)
			}
			r.set(i, j, v)
		}
	}
	if res := frob(mul(blas.NoTrans, q, r), a) / (float64(m) * frob(a, array{}) * eps); !(res < qrTol) {
		t.Errorf("%s: ||A - Q R|| / (m ||A|| eps) = %.3g, want < %v", what, res, qrTol)
	}
	if res := frob(mul(blas.Trans, q, q), identity(m)) / (float64(m) * eps); !(res < qrTol) {
		t.Errorf("%s: ||I - Qᵀ Q|| / (m eps) = %.3g, want < %v", what, res, qrTol)
	}
}

func TestGeqrt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range sizes {
		for _, ib := range ibs {
			m, n := s[0], s[1]
			what := fmt.Sprintf("Geqrt %dx%d ib=%d", m, n, ib)
			a := newArray(rng, m, n)
			f, ref := a.clone(), a.clone()
			k := min(m, n)
			tt, tr := newT(min(ib, k), k), newT(min(ib, k), k)
			Geqrt(m, n, ib, f.a, f.ld, tt.a, tt.ld)
			geqrtRef(m, n, min(ib, k), ref.a, ref.ld, tr.a, tr.ld)
			compare(t, what+" vs reference", f, ref, refTol, nil)
			compareT(t, what+" T vs reference", tt, tr, min(ib, k))
			checkQR(t, what, a, f, tt, ib)
		}
	}
}

// pentagon returns an m x n array whose last l rows are upper trapezoidal
// (zeros below), as Tpqrt's B.
func pentagon(rng *rand.Rand, m, n, l int) array {
	b := newArray(rng, m, n)
	for j := 0; j < n; j++ {
		for i := min(m-l+j+1, m); i < m; i++ {
			b.set(i, j, 0)
		}
	}
	return b
}

func upperOf(rng *rand.Rand, n int) array {
	a := newArray(rng, n, n)
	for j := 0; j < n; j++ {
		for i := j + 1; i < n; i++ {
			a.set(i, j, 0)
		}
	}
	return a
}

func TestTpqrt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{7, 5, 0}, {5, 7, 0}, {5, 5, 5}, {3, 5, 3}, {6, 4, 2}, {1, 1, 1}, {0, 3, 0}, {64, 64, 0}, {48, 48, 48}} {
		m, n, l := s[0], s[1], s[2]
		for _, ib := range ibs {
			what := fmt.Sprintf("Tpqrt m=%d n=%d l=%d ib=%d", m, n, l, ib)
			a, b := upperOf(rng, n), pentagon(rng, m, n, l)
			fa, fb, ra, rb := a.clone(), b.clone(), a.clone(), b.clone()
			tt, tr := newT(min(ib, n), n), newT(min(ib, n), n)
			Tpqrt(m, n, l, ib, fa.a, fa.ld, fb.a, fb.ld, tt.a, tt.ld)
			if m > 0 {
				tpqrtRef(m, n, l, min(ib, n), ra.a, ra.ld, rb.a, rb.ld, tr.a, tr.ld)
			}
			compare(t, what+" R vs reference", fa, ra, refTol, nil)
			compare(t, what+" V vs reference", fb, rb, refTol, nil)
			if m > 0 { // m = 0: Q = I and T is not written
				compareT(t, what+" T vs reference", tt, tr, min(ib, n))
			}
			// [A; B] = Q [R; 0]: apply Q to [R; 0] and compare.
			r, z := fa.clone(), newArray(rng, m, n)
			for j := 0; j < n; j++ {
				for i := 0; i < n; i++ {
					if i > j {
						r.set(i, j, 0)
					}
				}
				for i := 0; i < m; i++ {
					z.set(i, j, 0)
				}
			}
			Tpmqrt(blas.Left, blas.NoTrans, m, n, n, l, ib, fb.a, fb.ld, tt.a, tt.ld, r.a, r.ld, z.a, z.ld)
			norm := math.Hypot(frob(a, array{}), frob(b, array{}))
			if res := math.Hypot(frob(r, a), frob(z, b)) / (float64(m+n) * norm * eps); !(res < qrTol) {
				t.Errorf("%s: ||[A; B] - Q [R; 0]|| / ((m+n) ||[A; B]|| eps) = %.3g, want < %v", what, res, qrTol)
			}
		}
	}
}

// TestApply checks Gemqrt and Tpmqrt on both sides and transposes against
// the references, and that Qᵀ undoes Q.
func TestApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sides := []blas.Side{blas.Left, blas.Right}
	for _, ib := range ibs {
		for _, s := range [][3]int{{9, 6, 5}, {6, 9, 6}, {64, 40, 64}} { // q (order of Q), other dimension, k
			q, o, k := s[0], s[1], s[2]
			k = min(k, q)
			v := newArray(rng, q, k)
			tv := newT(min(ib, k), k)
			f := v.clone()
			Geqrt(q, k, ib, f.a, f.ld, tv.a, tv.ld)
			for _, side := range sides {
				m, n := q, o
				if side == blas.Right {
					m, n = o, q
				}
				for _, tr := range transposes {
					what := fmt.Sprintf("Gemqrt side=%c trans=%c %dx%d k=%d ib=%d", side, tr, m, n, k, ib)
					c := newArray(rng, m, n)
					got, want := c.clone(), c.clone()
					Gemqrt(side, tr, m, n, k, ib, f.a, f.ld, tv.a, tv.ld, got.a, got.ld)
					gemqrtRef(side, tr, m, n, k, min(ib, k), f.a, f.ld, tv.a, tv.ld, want.a, want.ld)
					compare(t, what, got, want, refTol, nil)
					back := flip(tr)
					Gemqrt(side, back, m, n, k, ib, f.a, f.ld, tv.a, tv.ld, got.a, got.ld)
					compare(t, what+" then its inverse", got, c, refTol, nil)
				}
			}
			// Tpmqrt with a TS (l = 0) and a TT (l = k) factorization.
			for _, l := range []int{0, k} {
				vb := pentagon(rng, q, k, l)
				ta := upperOf(rng, k)
				tt := newT(min(ib, k), k)
				Tpqrt(q, k, l, ib, ta.a, ta.ld, vb.a, vb.ld, tt.a, tt.ld)
				for _, side := range sides {
					for _, tr := range transposes {
						m, n := q, o // B
						ar, ac := k, o
						if side == blas.Right {
							m, n = o, q
							ar, ac = o, k
						}
						what := fmt.Sprintf("Tpmqrt side=%c trans=%c B %dx%d k=%d l=%d ib=%d", side, tr, m, n, k, l, ib)
						a, b := newArray(rng, ar, ac), newArray(rng, m, n)
						ga, gb, wa, wb := a.clone(), b.clone(), a.clone(), b.clone()
						Tpmqrt(side, tr, m, n, k, l, ib, vb.a, vb.ld, tt.a, tt.ld, ga.a, ga.ld, gb.a, gb.ld)
						tpmqrtRef(side, tr, m, n, k, l, min(ib, k), vb.a, vb.ld, tt.a, tt.ld, wa.a, wa.ld, wb.a, wb.ld)
						compare(t, what+" A", ga, wa, refTol, nil)
						compare(t, what+" B", gb, wb, refTol, nil)
						Tpmqrt(side, flip(tr), m, n, k, l, ib, vb.a, vb.ld, tt.a, tt.ld, ga.a, ga.ld, gb.a, gb.ld)
						compare(t, what+" then its inverse, A", ga, a, refTol, nil)
						compare(t, what+" then its inverse, B", gb, b, refTol, nil)
					}
				}
			}
		}
	}
}

// compareT compares the triangles of two T factors with blocks of ib
// (LAPACK's routines differ in whether they clear the rest).
func compareT(t *testing.T, what string, got, want array, ib int) {
	t.Helper()
	for j := 0; j < want.c; j++ {
		for i := 0; i <= j%ib; i++ {
			if d := math.Abs(got.at(i, j) - want.at(i, j)); !(d <= refTol) {
				t.Fatalf("%s: T(%d, %d) = %v, reference %v", what, i, j, got.at(i, j), want.at(i, j))
			}
		}
	}
}

func flip(t blas.Transpose) blas.Transpose {
	if t == blas.NoTrans {
		return blas.Trans
	}
	return blas.NoTrans
}

func TestQRMisusePanics(t *testing.T) {
	buf := make([]float64, 100)
	for name, f := range map[string]func(){
		"Geqrt ib=0":     func() { Geqrt(4, 4, 0, buf, 4, buf, 4) },
		"Geqrt short T":  func() { Geqrt(4, 4, 4, buf, 4, buf[:3], 4) },
		"Gemqrt side":    func() { Gemqrt('X', blas.NoTrans, 4, 4, 4, 2, buf, 4, buf, 2, buf, 4) },
		"Gemqrt k > m":   func() { Gemqrt(blas.Left, blas.NoTrans, 4, 4, 5, 2, buf, 4, buf, 2, buf, 4) },
		"Tpqrt l > n":    func() { Tpqrt(4, 3, 4, 2, buf, 3, buf, 4, buf, 2) },
		"Tpmqrt trans":   func() { Tpmqrt(blas.Left, 'X', 4, 4, 4, 0, 2, buf, 4, buf, 2, buf, 4, buf, 4) },
		"Tpmqrt short A": func() { Tpmqrt(blas.Left, blas.NoTrans, 4, 30, 4, 0, 2, buf, 4, buf, 2, buf[:10], 4, buf, 4) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
