package kernels

import "gonum.org/v1/gonum/blas"

// The QR tile kernels, PLASMA's set on LAPACK's compact-WY routines (with
// cgo, OpenBLAS's LAPACK: qr_cgo.go; without, the pure-Go versions in
// qr_ref.go). Q is a product of Householder reflectors H_i = I - tau_i v_i
// v_iᵀ, kept as the vectors V and, per block of ib reflectors, the upper
// triangular T with H_j0 ... H_j0+ib-1 = I - V T Vᵀ. T factors are stored
// as LAPACK stores them: an ib x k array (leading dimension ldt >= ib) whose
// columns j0..j0+ib-1 hold the ib x ib triangle of block j0.
//
// The inner block size ib is clamped to [1, k] (k the number of reflectors)
// by every kernel, so the same ib may be passed for partial tiles; a T must
// be applied with the ib it was made with.

// Geqrt computes the QR factorization of the m x n column-major A, as LAPACK
// DGEQRT: R on and above the diagonal, the reflectors (unit lower
// trapezoidal V) below it, the min(m, n) columns of T in t (blocks of ib).
func Geqrt(m, n, ib int, a []float64, lda int, t []float64, ldt int) {
	checkArray(m, n, a, lda)
	k := min(m, n)
	if k == 0 {
		return
	}
	ib = clampIB(ib, k)
	checkArray(ib, k, t, ldt)
	lapackGeqrt(m, n, ib, a, lda, t, ldt)
}

// Gemqrt overwrites the m x n column-major C with op(Q) C (side blas.Left,
// V m x k) or C op(Q) (blas.Right, V n x k), as LAPACK DGEMQRT, for the Q
// = H_0 ... H_{k-1} of Geqrt (V and T as it left them; only V's strictly
// lower part is read). op(Q) is Q (blas.NoTrans) or Qᵀ (blas.Trans).
func Gemqrt(side blas.Side, trans blas.Transpose, m, n, k, ib int, v []float64, ldv int, t []float64, ldt int, c []float64, ldc int) {
	trans = checkSideTrans(side, trans)
	checkArray(m, n, c, ldc)
	q := m
	if side == blas.Right {
		q = n
	}
	if k < 0 || k > q {
		panic(errK)
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	ib = clampIB(ib, k)
	checkArray(q, k, v, ldv)
	checkArray(ib, k, t, ldt)
	lapackGemqrt(side, trans, m, n, k, ib, v, ldv, t, ldt, c, ldc)
}

// Tpqrt computes the QR factorization of the (n + m) x n matrix [A; B], as
// LAPACK DTPQRT: A is n x n upper triangular (only that triangle is read
// and written), B is m x n "pentagonal": its first m - l rows are
// rectangular and its last l rows upper trapezoidal (0 <= l <= min(m, n)).
// l = 0 is the "TS" kernel of tile QR (a triangle on top of a square) and
// l = m <= n the "TT" kernel (a triangle on top of a triangle). R overwrites
// A, the reflectors' lower parts overwrite B, T (ib x n) goes to t.
func Tpqrt(m, n, l, ib int, a []float64, lda int, b []float64, ldb int, t []float64, ldt int) {
	checkArray(n, n, a, lda)
	checkArray(m, n, b, ldb)
	if l < 0 || l > min(m, n) {
		panic(errL)
	}
	if m == 0 || n == 0 {
		return // Q = I; as LAPACK, T is not written
	}
	ib = clampIB(ib, n)
	checkArray(ib, n, t, ldt)
	lapackTpqrt(m, n, l, ib, a, lda, b, ldb, t, ldt)
}

// Tpmqrt applies op(Q) of Tpqrt (V, T and l as it used them, k
// reflectors) to [A; B] from the left (A k x n, B m x n, V m x k) or to
// [A B] from the right (A m x k, B m x n, V n x k), as LAPACK DTPMQRT.
func Tpmqrt(side blas.Side, trans blas.Transpose, m, n, k, l, ib int, v []float64, ldv int, t []float64, ldt int, a []float64, lda int, b []float64, ldb int) {
	trans = checkSideTrans(side, trans)
	checkArray(m, n, b, ldb)
	q := m
	if side == blas.Left {
		checkArray(k, n, a, lda)
	} else {
		checkArray(m, k, a, lda)
		q = n
	}
	if k < 0 {
		panic(errK)
	}
	if l < 0 || l > min(q, k) {
		panic(errL)
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	ib = clampIB(ib, k)
	checkArray(q, k, v, ldv)
	checkArray(ib, k, t, ldt)
	lapackTpmqrt(side, trans, m, n, k, l, ib, v, ldv, t, ldt, a, lda, b, ldb)
}

func clampIB(ib, k int) int {
	if ib < 1 {
		panic(errIB)
	}
	return min(ib, k)
}

// checkSideTrans panics on a bad side or trans and maps ConjTrans to Trans.
func checkSideTrans(side blas.Side, trans blas.Transpose) blas.Transpose {
	if side != blas.Left && side != blas.Right {
		panic(errSide)
	}
	switch trans {
	case blas.NoTrans, blas.Trans:
		return trans
	case blas.ConjTrans:
		return blas.Trans
	}
	panic(errTrans)
}

// Panic messages of the QR kernels (kept here rather than in errors.go,
// which the other kernel files share).
const (
	errIB = "kernels: inner block size ib must be positive"
	errK  = "kernels: number of reflectors k out of range"
	errL  = "kernels: trapezoid rows l out of range"
)
