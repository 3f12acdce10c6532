package kernels

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// Tolerances. The kernels and the references sum the same products in
// different orders, so entries differ by rounding: at most k ulps of the
// sum of the absolute values of the terms (Higham, Accuracy and Stability
// of Numerical Algorithms, 2nd ed., eq. 3.5). The test data lie in
// [-1, 1], so |terms| ≤ a few units and tol = 8 k ε bounds every case with
// room to spare; the triangular solves use well-conditioned matrices
// (diagonal at least 2 + order) so the same form holds with k the order.
const eps = 0x1p-52

func tolFor(k int) float64 { return 8 * float64(k+1) * eps * 16 }

// sizes straddle the interesting cases: 1 x 1, odd partial tiles, a tall
// and a wide one, a full 64-tile and a tile with a larger leading dimension
// (ldExtra).
var sizes = [][2]int{{1, 1}, {7, 5}, {5, 7}, {1, 9}, {13, 1}, {64, 64}, {33, 48}}

const ldExtra = 3

// array is a column-major test array with a padded leading dimension; the
// padding holds a sentinel that no kernel may change.
type array struct {
	r, c, ld int
	a        []float64
}

const sentinel = -1234.5

func newArray(rng *rand.Rand, r, c int) array {
	ld := max(1, r) + ldExtra
	a := make([]float64, ld*max(c, 1))
	for i := range a {
		a[i] = sentinel
	}
	x := array{r, c, ld, a}
	for j := 0; j < c; j++ {
		for i := 0; i < r; i++ {
			x.set(i, j, 2*rng.Float64()-1)
		}
	}
	return x
}

func (x array) at(i, j int) float64     { return x.a[i+j*x.ld] }
func (x array) set(i, j int, v float64) { x.a[i+j*x.ld] = v }
func (x array) clone() array {
	return array{x.r, x.c, x.ld, append([]float64(nil), x.a...)}
}

// checkPadding fails if an entry outside the r x c array changed.
func (x array) checkPadding(t *testing.T, what string) {
	t.Helper()
	for j := 0; j < max(x.c, 1); j++ {
		for i := x.r; i < x.ld; i++ {
			if x.a[i+j*x.ld] != sentinel {
				t.Fatalf("%s: padding (%d, %d) changed to %v", what, i, j, x.a[i+j*x.ld])
			}
		}
	}
}

// op returns entry (i, j) of op(x).
func op(t blas.Transpose, x array, i, j int) float64 {
	if t == blas.NoTrans {
		return x.at(i, j)
	}
	return x.at(j, i)
}

func compare(t *testing.T, what string, got, want array, tol float64, only func(i, j int) bool) {
	t.Helper()
	for j := 0; j < want.c; j++ {
		for i := 0; i < want.r; i++ {
			if only != nil && !only(i, j) {
				if got.at(i, j) != want.at(i, j) {
					t.Fatalf("%s: entry (%d, %d) outside the updated part changed: %v, want %v", what, i, j, got.at(i, j), want.at(i, j))
				}
				continue
			}
			if d := math.Abs(got.at(i, j) - want.at(i, j)); d > tol || math.IsNaN(d) {
				t.Fatalf("%s: entry (%d, %d) = %v, reference %v (|diff| %.3g > tol %.3g)", what, i, j, got.at(i, j), want.at(i, j), d, tol)
			}
		}
	}
	got.checkPadding(t, what)
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

func TestGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mn := range sizes {
		for _, k := range []int{1, 6, 64} {
			m, n := mn[0], mn[1]
			for _, ta := range transposes {
				for _, tb := range transposes {
					ar, ac := m, k
					if ta == blas.Trans {
						ar, ac = k, m
					}
					br, bc := k, n
					if tb == blas.Trans {
						br, bc = n, k
					}
					a, b, c := newArray(rng, ar, ac), newArray(rng, br, bc), newArray(rng, m, n)
					alpha, beta := 0.75, -1.5
					want := c.clone()
					for i := 0; i < m; i++ {
						for j := 0; j < n; j++ {
							s := 0.0
							for l := 0; l < k; l++ {
								s += op(ta, a, i, l) * op(tb, b, l, j)
							}
							want.set(i, j, alpha*s+beta*c.at(i, j))
						}
					}
					Gemm(ta, tb, m, n, k, alpha, a.a, a.ld, b.a, b.ld, beta, c.a, c.ld)
					compare(t, fmt.Sprintf("Gemm(%c, %c, m=%d, n=%d, k=%d)", ta, tb, m, n, k), c, want, tolFor(k), nil)
				}
			}
		}
	}
}

func inTriangle(ul blas.Uplo) func(i, j int) bool {
	if ul == blas.Lower {
		return func(i, j int) bool { return i >= j }
	}
	return func(i, j int) bool { return i <= j }
}

func TestSyrk(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 5, 7, 64} {
		for _, k := range []int{1, 6, 64} {
			for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
				for _, tr := range transposes {
					ar, ac := n, k
					if tr == blas.Trans {
						ar, ac = k, n
					}
					a, c := newArray(rng, ar, ac), newArray(rng, n, n)
					alpha, beta := -1.0, 0.5
					want := c.clone()
					for i := 0; i < n; i++ {
						for j := 0; j < n; j++ {
							if !inTriangle(ul)(i, j) {
								continue
							}
							s := 0.0
							for l := 0; l < k; l++ {
								s += op(tr, a, i, l) * op(tr, a, j, l)
							}
							want.set(i, j, alpha*s+beta*c.at(i, j))
						}
					}
					Syrk(ul, tr, n, k, alpha, a.a, a.ld, beta, c.a, c.ld)
					compare(t, fmt.Sprintf("Syrk(%c, %c, n=%d, k=%d)", ul, tr, n, k), c, want, tolFor(k), inTriangle(ul))
				}
			}
		}
	}
}

// triangular returns an order-n triangular array (uplo) with a dominant
// diagonal and off-diagonal entries below 1/n, so that it is well
// conditioned with its own diagonal or a unit one, and NaN in the other
// triangle, which no kernel may read.
func triangular(rng *rand.Rand, ul blas.Uplo, n int) array {
	a := newArray(rng, n, n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			switch {
			case i == j:
				a.set(i, j, float64(n+2)+rng.Float64())
			case !inTriangle(ul)(i, j):
				a.set(i, j, math.NaN())
			default:
				a.set(i, j, a.at(i, j)/float64(n))
			}
		}
	}
	return a
}

// triAt returns entry (i, j) of op(A) for triangular A read as uplo and
// diag say.
func triAt(ul blas.Uplo, tr blas.Transpose, d blas.Diag, a array, i, j int) float64 {
	if tr != blas.NoTrans {
		i, j = j, i
	}
	switch {
	case i == j && d == blas.Unit:
		return 1
	case !inTriangle(ul)(i, j):
		return 0
	}
	return a.at(i, j)
}

func TestTrsmTrmm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// The larger sizes take Trsm's recursive halving (A of order above
	// 64), on two levels and with odd halves for 150 and 131.
	for _, mn := range append(sizes[:len(sizes):len(sizes)], [2]int{150, 70}, [2]int{70, 150}, [2]int{131, 131}, [2]int{200, 3}) {
		m, n := mn[0], mn[1]
		for _, side := range []blas.Side{blas.Left, blas.Right} {
			for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
				for _, tr := range transposes {
					for _, d := range []blas.Diag{blas.NonUnit, blas.Unit} {
						na := m
						if side == blas.Right {
							na = n
						}
						a := triangular(rng, ul, na)
						x := newArray(rng, m, n)
						alpha := 2.0
						// B = op(A) X / alpha (left) or X op(A) / alpha (right)
						// by the reference product; Trsm must give X back.
						b := x.clone()
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								s := 0.0
								if side == blas.Left {
									for l := 0; l < m; l++ {
										s += triAt(ul, tr, d, a, i, l) * x.at(l, j)
									}
								} else {
									for l := 0; l < n; l++ {
										s += x.at(i, l) * triAt(ul, tr, d, a, l, j)
									}
								}
								b.set(i, j, s)
							}
						}
						what := fmt.Sprintf("(%c, %c, %c, %c, m=%d, n=%d)", side, ul, tr, d, m, n)
						got := x.clone()
						Trmm(side, ul, tr, d, m, n, 1, a.a, a.ld, got.a, got.ld)
						compare(t, "Trmm"+what, got, b, tolFor(na)*float64(na+3), nil)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								b.set(i, j, b.at(i, j)/alpha)
							}
						}
						Trsm(side, ul, tr, d, m, n, alpha, a.a, a.ld, b.a, b.ld)
						compare(t, "Trsm"+what, b, x, tolFor(na), nil)
					}
				}
			}
		}
	}
}

// spd returns an order-n symmetric positive definite array, both triangles
// set: A = G Gᵀ + n I.
func spd(rng *rand.Rand, n int) array {
	g := newArray(rng, n, n)
	a := newArray(rng, n, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for l := 0; l < n; l++ {
				s += g.at(i, l) * g.at(j, l)
			}
			if i == j {
				s += float64(n)
			}
			a.set(i, j, s)
		}
	}
	return a
}

func TestPotrf(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, impl := range []struct {
		name string
		f    func(blas.Uplo, int, []float64, int) error
	}{{"Potrf", Potrf}, {"PotrfGonum", PotrfGonum}} {
		for _, n := range []int{1, 2, 7, 64, 100, 300} {
			for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
				a := spd(rng, n)
				f := a.clone()
				what := fmt.Sprintf("%s(%c, n=%d)", impl.name, ul, n)
				if err := impl.f(ul, n, f.a, f.ld); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				// Rebuild A from the factor and check the scaled residual
				// ||A - L Lᵀ||_max / (n ||A||_max ε) against 4: LAPACK's
				// backward error bound for Cholesky is a small multiple of
				// n ε ||A|| (Higham, Theorem 10.3).
				norm, res := 0.0, 0.0
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						s := 0.0
						for l := 0; l <= min(i, j); l++ {
							if ul == blas.Lower {
								s += f.at(i, l) * f.at(j, l)
							} else {
								s += f.at(l, i) * f.at(l, j)
							}
						}
						norm = max(norm, math.Abs(a.at(i, j)))
						res = max(res, math.Abs(a.at(i, j)-s))
					}
				}
				if r := res / (float64(n) * norm * eps); r > 4 || math.IsNaN(r) {
					t.Fatalf("%s: scaled residual %.3g > 4", what, r)
				}
				for j := 0; j < n; j++ {
					for i := 0; i < n; i++ {
						if i != j && !inTriangle(ul)(i, j) && f.at(i, j) != a.at(i, j) {
							t.Fatalf("%s: entry (%d, %d) of the other triangle changed", what, i, j)
						}
					}
				}
				f.checkPadding(t, what)
			}
		}
	}
}

// TestPotrfNotPositiveDefinite breaks an SPD matrix at column c (1-based)
// by making the leading minor of order c singular-negative, and checks both
// implementations report INFO = c in a *NotPositiveDefiniteError.
func TestPotrfNotPositiveDefinite(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, impl := range []struct {
		name string
		f    func(blas.Uplo, int, []float64, int) error
	}{{"Potrf", Potrf}, {"PotrfGonum", PotrfGonum}} {
		for _, nc := range [][2]int{{1, 1}, {5, 3}, {64, 64}, {200, 1}, {200, 97}, {300, 250}} {
			n, c := nc[0], nc[1]
			for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
				a := spd(rng, n)
				// A(c-1, c-1) = -n² makes the Schur complement at pivot c
				// negative whatever came before (|A(i, j)| ≤ 2n).
				a.set(c-1, c-1, -float64(n*n))
				err := impl.f(ul, n, a.a, a.ld)
				var npd *NotPositiveDefiniteError
				what := fmt.Sprintf("%s(%c, n=%d) broken at %d", impl.name, ul, n, c)
				if !errors.As(err, &npd) {
					t.Fatalf("%s: err = %v, want *NotPositiveDefiniteError", what, err)
				}
				if npd.Column != c || npd.N != n {
					t.Fatalf("%s: error %+v, want Column %d, N %d", what, npd, c, n)
				}
			}
		}
	}
	// A NaN is not a positive pivot either (LAPACK's DPOTRF tests DISNAN).
	for _, f := range []func(blas.Uplo, int, []float64, int) error{Potrf, PotrfGonum} {
		for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
			a := spd(rng, 9)
			a.set(4, 6, math.NaN())
			a.set(6, 4, math.NaN())
			var npd *NotPositiveDefiniteError
			if err := f(ul, 9, a.a, a.ld); !errors.As(err, &npd) || npd.Column != 7 {
				t.Fatalf("Cholesky (%c) with NaN at (4, 6): err = %v, want INFO = 7", ul, err)
			}
		}
	}
}

func TestLacpyLasetTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, mn := range sizes {
		m, n := mn[0], mn[1]
		for _, ul := range []blas.Uplo{blas.Upper, blas.Lower, blas.All} {
			in := func(i, j int) bool { return ul == blas.All || inTriangle(ul)(i, j) }
			a, b := newArray(rng, m, n), newArray(rng, m, n)
			want := b.clone()
			for j := 0; j < n; j++ {
				for i := 0; i < m; i++ {
					if in(i, j) {
						want.set(i, j, a.at(i, j))
					}
				}
			}
			Lacpy(ul, m, n, a.a, a.ld, b.a, b.ld)
			compare(t, fmt.Sprintf("Lacpy(%c, %d, %d)", ul, m, n), b, want, 0, nil)

			want = b.clone()
			for j := 0; j < n; j++ {
				for i := 0; i < m; i++ {
					switch {
					case i == j:
						want.set(i, j, 7)
					case in(i, j):
						want.set(i, j, 3)
					}
				}
			}
			Laset(ul, m, n, 3, 7, b.a, b.ld)
			compare(t, fmt.Sprintf("Laset(%c, %d, %d)", ul, m, n), b, want, 0, nil)
		}
		a := newArray(rng, m, n)
		tr := newArray(rng, n, m)
		Transpose(m, n, a.a, a.ld, tr.a, tr.ld)
		back := newArray(rng, m, n)
		Transpose(n, m, tr.a, tr.ld, back.a, back.ld)
		for j := 0; j < n; j++ {
			for i := 0; i < m; i++ {
				if tr.at(j, i) != a.at(i, j) || back.at(i, j) != a.at(i, j) {
					t.Fatalf("Transpose(%d, %d): entry (%d, %d) wrong", m, n, i, j)
				}
			}
		}
		tr.checkPadding(t, "Transpose")
	}
}

func TestMisusePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Potrf short": func() { Potrf(blas.Lower, 3, make([]float64, 8), 3) },
		"Potrf lda":   func() { Potrf(blas.Lower, 3, make([]float64, 9), 2) },
		"Potrf uplo":  func() { Potrf(blas.All, 3, make([]float64, 9), 3) },
		"Gemm short": func() {
			Gemm(blas.NoTrans, blas.NoTrans, 3, 3, 3, 1, make([]float64, 8), 3, make([]float64, 9), 3, 0, make([]float64, 9), 3)
		},
		"Trsm lda": func() {
			Trsm(blas.Left, blas.Lower, blas.NoTrans, blas.NonUnit, 3, 2, 1, make([]float64, 9), 2, make([]float64, 6), 3)
		},
		"Trsm short A, recursive order": func() {
			Trsm(blas.Left, blas.Lower, blas.NoTrans, blas.NonUnit, 100, 2, 1, make([]float64, 100*99), 100, make([]float64, 200), 100)
		},
		"Trsm short B": func() {
			Trsm(blas.Right, blas.Upper, blas.Trans, blas.Unit, 3, 100, 1, make([]float64, 100*100), 100, make([]float64, 3*99), 3)
		},
		"Trsm side": func() {
			Trsm('x', blas.Lower, blas.NoTrans, blas.NonUnit, 2, 2, 1, make([]float64, 4), 2, make([]float64, 4), 2)
		},
		"SetNumThreads": func() { SetNumThreads(0) },
		"Transpose":     func() { Transpose(2, 3, make([]float64, 6), 2, make([]float64, 6), 2) },
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

// TestConcurrent runs kernels from several goroutines at once, as the
// runtime's workers do, and checks every result: OpenBLAS with one thread
// per call must be reentrant.
func TestConcurrent(t *testing.T) {
	const workers, rounds, n = 4, 20, 96
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			for r := 0; r < rounds; r++ {
				a := spd(rng, n)
				f := a.clone()
				if err := Potrf(blas.Lower, n, f.a, f.ld); err != nil {
					errs <- err
					return
				}
				// A - L Lᵀ through Gemm on the lower factor (upper zeroed).
				l := f.clone()
				for j := 1; j < n; j++ {
					for i := 0; i < j; i++ {
						l.set(i, j, 0)
					}
				}
				Gemm(blas.NoTrans, blas.Trans, n, n, n, -1, l.a, l.ld, l.a, l.ld, 1, a.a, a.ld)
				for j := 0; j < n; j++ {
					for i := 0; i < n; i++ {
						if math.Abs(a.at(i, j)) > 4*float64(n)*eps*float64(2*n) {
							errs <- fmt.Errorf("worker %d round %d: residual %v at (%d, %d)", w, r, a.at(i, j), i, j)
							return
						}
					}
				}
			}
			errs <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestTrtri(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	// 65, 150 and 301 take the recursive halving (above order 64), 301 on
	// two levels with odd halves.
	for _, n := range []int{1, 7, 64, 65, 150, 301} {
		for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
			for _, d := range []blas.Diag{blas.NonUnit, blas.Unit} {
				what := fmt.Sprintf("Trtri(%c, %c, n=%d)", ul, d, n)
				a := triangular(rng, ul, n)
				inv := a.clone()
				if err := Trtri(ul, d, n, inv.a, inv.ld); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				// inv(A) A = I, entry by entry; A is well conditioned.
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						s := 0.0
						for l := 0; l < n; l++ {
							s += triAt(ul, blas.NoTrans, d, inv, i, l) * triAt(ul, blas.NoTrans, d, a, l, j)
						}
						want := 0.0
						if i == j {
							want = 1
						}
						if math.Abs(s-want) > tolFor(n) {
							t.Fatalf("%s: (inv(A) A)(%d, %d) = %v", what, i, j, s)
						}
					}
				}
				for j := 0; j < n; j++ {
					for i := 0; i < n; i++ {
						if i != j && !inTriangle(ul)(i, j) && !math.IsNaN(inv.at(i, j)) {
							t.Fatalf("%s: entry (%d, %d) of the other triangle changed", what, i, j)
						}
					}
				}
				inv.checkPadding(t, what)
			}
		}
	}
	a := triangular(rng, blas.Lower, 5)
	a.set(3, 3, 0)
	var se *SingularError
	if err := Trtri(blas.Lower, blas.NonUnit, 5, a.a, a.ld); !errors.As(err, &se) || se.Index != 4 {
		t.Fatalf("Trtri with A(3, 3) = 0: err = %v, want INFO = 4", err)
	}
	// The first zero of the diagonal, in the second half of a recursive
	// case, before anything is written; a unit diagonal ignores it.
	for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
		a := triangular(rng, ul, 200)
		a.set(150, 150, 0)
		a.set(170, 170, 0)
		orig := a.clone()
		if err := Trtri(ul, blas.NonUnit, 200, a.a, a.ld); !errors.As(err, &se) || se.Index != 151 || se.N != 200 {
			t.Fatalf("Trtri(%c) with A(150, 150) = 0: err = %v, want INFO = 151", ul, err)
		}
		for i := range a.a {
			if a.a[i] != orig.a[i] && !(math.IsNaN(a.a[i]) && math.IsNaN(orig.a[i])) {
				t.Fatalf("Trtri(%c) on a singular triangle wrote element %d", ul, i)
			}
		}
		if err := Trtri(ul, blas.Unit, 200, a.a, a.ld); err != nil {
			t.Fatalf("Trtri(%c, Unit) with zeros on the diagonal: %v", ul, err)
		}
	}
}

// TestTrsmAlphaZero: alpha = 0 sets B to zero without reading A, as DTRSM
// does, also at sizes Trsm solves recursively.
func TestTrsmAlphaZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, na := range []int{5, 100} {
		for _, side := range []blas.Side{blas.Left, blas.Right} {
			a := newArray(rng, na, na)
			for i := range a.a {
				a.a[i] = math.NaN()
			}
			m, n := na, 9
			if side == blas.Right {
				m, n = 9, na
			}
			b := newArray(rng, m, n)
			Trsm(side, blas.Lower, blas.NoTrans, blas.NonUnit, m, n, 0, a.a, a.ld, b.a, b.ld)
			for j := 0; j < n; j++ {
				for i := 0; i < m; i++ {
					if b.at(i, j) != 0 {
						t.Fatalf("Trsm(%c, alpha 0, order %d): B(%d, %d) = %v, want 0", side, na, i, j, b.at(i, j))
					}
				}
			}
			b.checkPadding(t, "Trsm alpha 0")
		}
	}
}
