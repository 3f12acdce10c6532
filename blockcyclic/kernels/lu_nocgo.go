//go:build !cgo

// The pure-Go twin of lu_cgo.go. Keep the two in sync.

package kernels

// lapackGetrf is the pure-Go recursive factorization (getrf2) without cgo.
func lapackGetrf(m, n int, a []float64, lda int, ipiv []int32) int {
	return getrf2(m, n, a, lda, ipiv, true)
}
