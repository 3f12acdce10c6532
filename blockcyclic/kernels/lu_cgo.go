//go:build cgo

// LAPACK's LU kernel on OpenBLAS. Its twin lu_nocgo.go keeps the same
// function for builds without cgo; keep the two in sync.

package kernels

/*
#cgo pkg-config: openblas
#cgo nocallback spmd_dgetrf
#cgo noescape spmd_dgetrf

// LAPACK's DGETRF (OpenBLAS ships its own recursive one). Fortran INTEGER
// is a C int in the LP64 build.
void dgetrf_(const int *m, const int *n, double *a, const int *lda, int *ipiv, int *info);

static int spmd_dgetrf(int m, int n, double *a, int lda, int *ipiv) {
	int info = 0;
	dgetrf_(&m, &n, a, &lda, ipiv, &info);
	return info;
}
*/
import "C"

import "unsafe"

// lapackGetrf is LAPACK's DGETRF on a column-major m x n array (m, n > 0):
// it returns INFO and leaves 0-based pivots in ipiv.
func lapackGetrf(m, n int, a []float64, lda int, ipiv []int32) int {
	info := int(C.spmd_dgetrf(C.int(m), C.int(n), (*C.double)(unsafe.Pointer(&a[0])), C.int(lda), (*C.int)(unsafe.Pointer(&ipiv[0]))))
	for i := range min(m, n) {
		ipiv[i]--
	}
	return info
}
