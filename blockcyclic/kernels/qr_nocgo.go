//go:build !cgo

// The pure-Go twin of qr_cgo.go: the QR tile kernels on the straightforward
// versions of qr_ref.go. Keep the two in sync.

package kernels

import "gonum.org/v1/gonum/blas"

func lapackGeqrt(m, n, ib int, a []float64, lda int, t []float64, ldt int) {
	geqrtRef(m, n, ib, a, lda, t, ldt)
}

func lapackGemqrt(side blas.Side, trans blas.Transpose, m, n, k, ib int, v []float64, ldv int, t []float64, ldt int, c []float64, ldc int) {
	gemqrtRef(side, trans, m, n, k, ib, v, ldv, t, ldt, c, ldc)
}

func lapackTpqrt(m, n, l, ib int, a []float64, lda int, b []float64, ldb int, t []float64, ldt int) {
	tpqrtRef(m, n, l, ib, a, lda, b, ldb, t, ldt)
}

func lapackTpmqrt(side blas.Side, trans blas.Transpose, m, n, k, l, ib int, v []float64, ldv int, t []float64, ldt int, a []float64, lda int, b []float64, ldb int) {
	tpmqrtRef(side, trans, m, n, k, l, ib, v, ldv, t, ldt, a, lda, b, ldb)
}
