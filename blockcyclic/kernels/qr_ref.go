package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack/gonum"
)

// Straightforward pure-Go versions of the compact-WY QR tile kernels: one
// Householder reflector at a time (LAPACK's DLARFG for each column), the T
// factor built by DLARFT's recurrence, and Q applied reflector by
// reflector. They compute the same reflectors and T as LAPACK's blocked
// routines, up to rounding. The !cgo build uses them as its kernels (see
// qr_nocgo.go); the tests of the cgo build compare OpenBLAS's LAPACK with
// them.

// geqrtRef is DGEQRT on the m x n column-major a: V below the diagonal, R
// on and above it, T (ib x min(m, n), leading dimension ldt) in blocks of ib
// columns.
func geqrtRef(m, n, ib int, a []float64, lda int, t []float64, ldt int) {
	k := min(m, n)
	var impl gonum.Implementation
	for i := 0; i < k; i++ {
		// Reflector i from column i, rows i..m-1.
		var x []float64
		if i+1 < m {
			x = a[i+1+i*lda : m+i*lda]
		}
		beta, tau := impl.Dlarfg(m-i, a[i+i*lda], x, 1)
		a[i+i*lda] = beta
		// Apply H_i to columns i+1..n-1: c -= tau v (vᵀ c), v = (1; x).
		for c := i + 1; c < n; c++ {
			reflectColumn(a[c*lda:c*lda+m], a[i*lda:i*lda+m], i, tau)
		}
		// vᵀ v' for the earlier reflectors a of the same block.
		dot := func(p int) float64 { // v_p · v_i, p < i
			s := a[i+p*lda]
			for r := i + 1; r < m; r++ {
				s += a[r+p*lda] * a[r+i*lda]
			}
			return s
		}
		buildT(i, ib, tau, dot, t, ldt)
	}
}

// buildT fills column i of the block T factor (blocks of ib columns) from
// tau_i and the inner products dot(p) = v_pᵀ v_i of reflector i with the
// earlier reflectors p of its block, as DLARFT (forward, columnwise):
// T(0:r, i) = -tau T(0:r, 0:r) (V(:, 0:r)ᵀ v_i), T(r, i) = tau, r = i's
// place in its block.
func buildT(i, ib int, tau float64, dot func(p int) float64, t []float64, ldt int) {
	j0 := i - i%ib
	r := i - j0
	col := t[i*ldt : i*ldt+r+1]
	for p := 0; p < r; p++ {
		col[p] = -tau * dot(j0+p)
	}
	// col[0:r] = T(0:r, 0:r) col[0:r], T upper triangular (in place, top down).
	for p := 0; p < r; p++ {
		s := 0.0
		for q := p; q < r; q++ {
			s += t[p+(j0+q)*ldt] * col[q]
		}
		col[p] = s
	}
	col[r] = tau
}

// tpqrtRef is DTPQRT: the QR factorization of the (n + m) x n matrix
// [A; B], A n x n upper triangular, B m x n whose last l rows are upper
// trapezoidal (l = 0: B is rectangular; l = min(m, n) with m <= n: B is
// triangular). R overwrites A, the reflectors' B parts overwrite B, T is
// ib x n.
func tpqrtRef(m, n, l, ib int, a []float64, lda int, b []float64, ldb int, t []float64, ldt int) {
	var impl gonum.Implementation
	rows := func(i int) int { return min(m-l+i+1, m) } // rows of B in column i
	for i := 0; i < n; i++ {
		p := rows(i)
		var x []float64
		if p > 0 {
			x = b[i*ldb : i*ldb+p]
		}
		beta, tau := impl.Dlarfg(p+1, a[i+i*lda], x, 1)
		a[i+i*lda] = beta
		for c := i + 1; c < n; c++ {
			w := a[i+c*lda]
			for r := 0; r < p; r++ {
				w += b[r+i*ldb] * b[r+c*ldb]
			}
			w *= tau
			a[i+c*lda] -= w
			for r := 0; r < p; r++ {
				b[r+c*ldb] -= w * b[r+i*ldb]
			}
		}
		dot := func(q int) float64 {
			s := 0.0
			for r := 0; r < min(rows(q), p); r++ {
				s += b[r+q*ldb] * b[r+i*ldb]
			}
			return s
		}
		buildT(i, ib, tau, dot, t, ldt)
	}
}

// reflectorOrder returns the order in which the k reflectors are applied
// for op(Q) on side: Qᵀ from the left and Q from the right apply H_0
// first.
func reflectorOrder(side blas.Side, trans blas.Transpose, k int) (first, step int) {
	if (side == blas.Left) == (trans == blas.Trans) {
		return 0, 1
	}
	return k - 1, -1
}

// gemqrtRef is DGEMQRT: C = op(Q) C (left, C m x n, V m x k) or C op(Q)
// (right, V n x k), Q = H_0 ... H_{k-1} from DGEQRT (V unit lower
// trapezoidal, tau on T's diagonal).
func gemqrtRef(side blas.Side, trans blas.Transpose, m, n, k, ib int, v []float64, ldv int, t []float64, ldt int, c []float64, ldc int) {
	first, step := reflectorOrder(side, trans, k)
	for s := 0; s < k; s++ {
		i := first + s*step
		tau := t[i%ib+i*ldt]
		if side == blas.Left {
			for col := 0; col < n; col++ {
				reflectColumn(c[col*ldc:col*ldc+m], v[i*ldv:i*ldv+m], i, tau)
			}
			continue
		}
		for row := 0; row < m; row++ {
			w := c[row+i*ldc]
			for r := i + 1; r < n; r++ {
				w += c[row+r*ldc] * v[r+i*ldv]
			}
			w *= tau
			c[row+i*ldc] -= w
			for r := i + 1; r < n; r++ {
				c[row+r*ldc] -= w * v[r+i*ldv]
			}
		}
	}
}

// tpmqrtRef is DTPMQRT: applies op(Q) from DTPQRT to [A; B] (left: A k x n,
// B m x n, V m x k) or [A B] (right: A m x k, B m x n, V n x k); V's last l
// rows are upper trapezoidal.
func tpmqrtRef(side blas.Side, trans blas.Transpose, m, n, k, l, ib int, v []float64, ldv int, t []float64, ldt int, a []float64, lda int, b []float64, ldb int) {
	vr := m // rows of V
	if side == blas.Right {
		vr = n
	}
	first, step := reflectorOrder(side, trans, k)
	for s := 0; s < k; s++ {
		i := first + s*step
		tau := t[i%ib+i*ldt]
		p := min(vr-l+i+1, vr)
		if side == blas.Left {
			for col := 0; col < n; col++ {
				w := a[i+col*lda]
				for r := 0; r < p; r++ {
					w += v[r+i*ldv] * b[r+col*ldb]
				}
				w *= tau
				a[i+col*lda] -= w
				for r := 0; r < p; r++ {
					b[r+col*ldb] -= w * v[r+i*ldv]
				}
			}
			continue
		}
		for row := 0; row < m; row++ {
			w := a[row+i*lda]
			for r := 0; r < p; r++ {
				w += b[row+r*ldb] * v[r+i*ldv]
			}
			w *= tau
			a[row+i*lda] -= w
			for r := 0; r < p; r++ {
				b[row+r*ldb] -= w * v[r+i*ldv]
			}
		}
	}
}

// reflectColumn applies H = I - tau v vᵀ to col, where v is 1 at row i, x[r]
// for rows i < r < len(col) and zero above row i (LAPACK's storage of a
// Householder vector below the diagonal of column x).
func reflectColumn(col, x []float64, i int, tau float64) {
	m := len(col)
	w := col[i]
	for r := i + 1; r < m; r++ {
		w += x[r] * col[r]
	}
	w *= tau
	col[i] -= w
	for r := i + 1; r < m; r++ {
		col[r] -= w * x[r]
	}
}
