package kernels

import "gonum.org/v1/gonum/blas"

// trsmBase is the order of A at and below which trsmRec calls DTRSM.
const trsmBase = 64

// trsmRec is Trsm by recursive halving of A: the triangular solve of one
// half, a DGEMM that removes its contribution from the other half of B,
// and the solve of the other half, so that most of the work runs in DGEMM,
// which OpenBLAS 0.3.21 runs several times faster than DTRSM on AVX-512.
// Arguments as Trsm; m, n > 0 and alpha != 0.
func trsmRec(side blas.Side, uplo blas.Uplo, tr blas.Transpose, diag blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	na := m
	if side == blas.Right {
		na = n
	}
	if na <= trsmBase {
		impl.Dtrsm(flipSide(side), flipUplo(uplo), tr, diag, n, m, alpha, a, lda, b, ldb)
		return
	}
	k1 := na / 2
	k2 := na - k1
	a11, a22 := a, a[k1+k1*lda:]
	off := a[k1:] // A's stored off-diagonal block: A21 (lower) or A12 (upper)
	if uplo == blas.Upper {
		off = a[k1*lda:]
	}
	// op(off) is op(A)'s off-diagonal block (A21, A12ᵀ, A12 or A21ᵀ):
	// transposed exactly when A is. The half whose solution the other
	// needs comes first: A11's when op(A) is lower and B is solved from
	// the left, or op(A) is upper and from the right.
	lowerOp := (uplo == blas.Lower) == (tr == blas.NoTrans)
	first11 := lowerOp == (side == blas.Left)
	if side == blas.Left {
		b1, b2 := b, b[k1:]
		if first11 { // X1 first, then B2 -= op(A)21 X1
			trsmRec(side, uplo, tr, diag, k1, n, alpha, a11, lda, b1, ldb)
			Gemm(tr, blas.NoTrans, k2, n, k1, -1, off, lda, b1, ldb, alpha, b2, ldb)
			trsmRec(side, uplo, tr, diag, k2, n, 1, a22, lda, b2, ldb)
		} else { // X2 first, then B1 -= op(A)12 X2
			trsmRec(side, uplo, tr, diag, k2, n, alpha, a22, lda, b2, ldb)
			Gemm(tr, blas.NoTrans, k1, n, k2, -1, off, lda, b2, ldb, alpha, b1, ldb)
			trsmRec(side, uplo, tr, diag, k1, n, 1, a11, lda, b1, ldb)
		}
		return
	}
	b1, b2 := b, b[k1*ldb:]
	if first11 { // X1 first, then B2 -= X1 op(A)12
		trsmRec(side, uplo, tr, diag, m, k1, alpha, a11, lda, b1, ldb)
		Gemm(blas.NoTrans, tr, m, k2, k1, -1, b1, ldb, off, lda, alpha, b2, ldb)
		trsmRec(side, uplo, tr, diag, m, k2, 1, a22, lda, b2, ldb)
	} else { // X2 first, then B1 -= X2 op(A)21
		trsmRec(side, uplo, tr, diag, m, k2, alpha, a22, lda, b2, ldb)
		Gemm(blas.NoTrans, tr, m, k1, k2, -1, b2, ldb, off, lda, alpha, b1, ldb)
		trsmRec(side, uplo, tr, diag, m, k1, 1, a11, lda, b1, ldb)
	}
}
