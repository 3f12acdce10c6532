package kernels

import "gonum.org/v1/gonum/blas"

// trtriBase is the order at and below which trtriRec calls LAPACK's DTRTRI.
const trtriBase = 64

// trtriRec inverts the n x n triangle of column-major a in place by
// recursive halving: for lower A = [A11 0; A21 A22], A11 and A22 are
// inverted first, then A21 becomes -inv(A22) A21 inv(A11) with two TRMMs
// (upper: A12 becomes -inv(A11) A12 inv(A22)), so that most of the work
// runs in DTRMM instead of DTRTRI's small blocks. The diagonal must have no
// zero (Trtri checks it first).
func trtriRec(uplo blas.Uplo, diag blas.Diag, n int, a []float64, lda int) {
	if n <= trtriBase {
		if info := lapackTrtri(uplo, diag, n, a, lda); info != 0 {
			panic("kernels: trtriRec: singular triangle after the diagonal check")
		}
		return
	}
	n1 := n / 2
	n2 := n - n1
	a11 := a
	a22 := a[n1+n1*lda:]
	trtriRec(uplo, diag, n1, a11, lda)
	trtriRec(uplo, diag, n2, a22, lda)
	if uplo == blas.Lower {
		a21 := a[n1:]
		Trmm(blas.Left, blas.Lower, blas.NoTrans, diag, n2, n1, -1, a22, lda, a21, lda)
		Trmm(blas.Right, blas.Lower, blas.NoTrans, diag, n2, n1, 1, a11, lda, a21, lda)
		return
	}
	a12 := a[n1*lda:]
	Trmm(blas.Left, blas.Upper, blas.NoTrans, diag, n1, n2, -1, a11, lda, a12, lda)
	Trmm(blas.Right, blas.Upper, blas.NoTrans, diag, n1, n2, 1, a22, lda, a12, lda)
}
