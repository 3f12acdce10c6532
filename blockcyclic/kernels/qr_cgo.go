//go:build cgo

// The QR tile kernels on LAPACK's compact-WY routines, which Debian's
// libopenblas exports (DGEQRT, DGEMQRT, DTPQRT, DTPMQRT). Its twin
// qr_nocgo.go keeps the same functions on the pure-Go versions of
// qr_ref.go; keep the two in sync.

package kernels

/*
#cgo pkg-config: openblas
#cgo nocallback spmd_dgeqrt
#cgo noescape spmd_dgeqrt
#cgo nocallback spmd_dgemqrt
#cgo noescape spmd_dgemqrt
#cgo nocallback spmd_dtpqrt
#cgo noescape spmd_dtpqrt
#cgo nocallback spmd_dtpmqrt
#cgo noescape spmd_dtpmqrt

// Fortran INTEGER is a C int in the LP64 build; each CHARACTER argument has
// a hidden length passed at the end, as gfortran expects.
void dgeqrt_(const int *m, const int *n, const int *nb, double *a, const int *lda, double *t, const int *ldt,
	double *work, int *info);
void dgemqrt_(const char *side, const char *trans, const int *m, const int *n, const int *k, const int *nb,
	const double *v, const int *ldv, const double *t, const int *ldt, double *c, const int *ldc,
	double *work, int *info, unsigned long side_len, unsigned long trans_len);
void dtpqrt_(const int *m, const int *n, const int *l, const int *nb, double *a, const int *lda,
	double *b, const int *ldb, double *t, const int *ldt, double *work, int *info);
void dtpmqrt_(const char *side, const char *trans, const int *m, const int *n, const int *k, const int *l,
	const int *nb, const double *v, const int *ldv, const double *t, const int *ldt, double *a, const int *lda,
	double *b, const int *ldb, double *work, int *info, unsigned long side_len, unsigned long trans_len);

static int spmd_dgeqrt(int m, int n, int nb, double *a, int lda, double *t, int ldt, double *work) {
	int info = 0;
	dgeqrt_(&m, &n, &nb, a, &lda, t, &ldt, work, &info);
	return info;
}

static int spmd_dgemqrt(char side, char trans, int m, int n, int k, int nb, const double *v, int ldv,
		const double *t, int ldt, double *c, int ldc, double *work) {
	int info = 0;
	dgemqrt_(&side, &trans, &m, &n, &k, &nb, v, &ldv, t, &ldt, c, &ldc, work, &info, 1, 1);
	return info;
}

static int spmd_dtpqrt(int m, int n, int l, int nb, double *a, int lda, double *b, int ldb,
		double *t, int ldt, double *work) {
	int info = 0;
	dtpqrt_(&m, &n, &l, &nb, a, &lda, b, &ldb, t, &ldt, work, &info);
	return info;
}

static int spmd_dtpmqrt(char side, char trans, int m, int n, int k, int l, int nb, const double *v, int ldv,
		const double *t, int ldt, double *a, int lda, double *b, int ldb, double *work) {
	int info = 0;
	dtpmqrt_(&side, &trans, &m, &n, &k, &l, &nb, v, &ldv, t, &ldt, a, &lda, b, &ldb, work, &info, 1, 1);
	return info;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// work pools LAPACK's workspaces (at most ib x max(m, n) each), which
// every task would otherwise allocate.
var work sync.Pool

func getWork(n int) *[]float64 {
	if p, ok := work.Get().(*[]float64); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float64, max(n, 1))
	return &s
}

func dptr(s []float64) *C.double { return (*C.double)(unsafe.Pointer(&s[0])) }

func sideChar(s blas.Side) C.char {
	if s == blas.Right {
		return 'R'
	}
	return 'L'
}

func transChar(t blas.Transpose) C.char {
	if t == blas.NoTrans {
		return 'N'
	}
	return 'T'
}

// checkInfo panics on a non-zero INFO: the arguments were checked in Go, so
// LAPACK rejecting one is a bug of this package.
func checkInfo(routine string, info C.int) {
	if info != 0 {
		panic(fmt.Sprintf("kernels: %s rejected argument %d", routine, -int(info)))
	}
}

func lapackGeqrt(m, n, ib int, a []float64, lda int, t []float64, ldt int) {
	w := getWork(ib * n)
	checkInfo("DGEQRT", C.spmd_dgeqrt(C.int(m), C.int(n), C.int(ib), dptr(a), C.int(lda), dptr(t), C.int(ldt), dptr(*w)))
	work.Put(w)
}

func lapackGemqrt(side blas.Side, trans blas.Transpose, m, n, k, ib int, v []float64, ldv int, t []float64, ldt int, c []float64, ldc int) {
	w := getWork(ib * max(m, n))
	checkInfo("DGEMQRT", C.spmd_dgemqrt(sideChar(side), transChar(trans), C.int(m), C.int(n), C.int(k), C.int(ib),
		dptr(v), C.int(ldv), dptr(t), C.int(ldt), dptr(c), C.int(ldc), dptr(*w)))
	work.Put(w)
}

func lapackTpqrt(m, n, l, ib int, a []float64, lda int, b []float64, ldb int, t []float64, ldt int) {
	w := getWork(ib * n)
	checkInfo("DTPQRT", C.spmd_dtpqrt(C.int(m), C.int(n), C.int(l), C.int(ib), dptr(a), C.int(lda),
		dptr(b), C.int(ldb), dptr(t), C.int(ldt), dptr(*w)))
	work.Put(w)
}

func lapackTpmqrt(side blas.Side, trans blas.Transpose, m, n, k, l, ib int, v []float64, ldv int, t []float64, ldt int, a []float64, lda int, b []float64, ldb int) {
	w := getWork(ib * max(m, n))
	checkInfo("DTPMQRT", C.spmd_dtpmqrt(sideChar(side), transChar(trans), C.int(m), C.int(n), C.int(k), C.int(l), C.int(ib),
		dptr(v), C.int(ldv), dptr(t), C.int(ldt), dptr(a), C.int(lda), dptr(b), C.int(ldb), dptr(*w)))
	work.Put(w)
}
