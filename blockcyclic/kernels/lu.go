package kernels

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
)

// ZeroPivotError reports that an LU factorization met an exactly zero pivot.
// Column is LAPACK's INFO: the 1-based index i of the first U(i, i) that is
// exactly zero. As in LAPACK the factorization is completed, but U is
// exactly singular and must not be used to solve a system.
type ZeroPivotError struct {
	Column int // 1-based, as LAPACK's INFO
	M, N   int // size of the matrix that was factored
}

func (e *ZeroPivotError) Error() string {
	return fmt.Sprintf("kernels: LU of a %d x %d matrix: U(%d, %d) is exactly zero, the matrix is singular (INFO = %d)",
		e.M, e.N, e.Column, e.Column, e.Column)
}

const errIpivShort = "kernels: ipiv shorter than min(m, n)"

// getrfSfmin is LAPACK's DLAMCH('S'): the smallest number whose reciprocal does
// not overflow.
const getrfSfmin = 0x1p-1022

// Getrf computes the LU factorization with partial pivoting of the m x n
// column-major A, as LAPACK DGETRF: A = P L U with L unit lower triangular
// (lower trapezoidal if m > n) and U upper triangular (upper trapezoidal if
// m < n), both written over A. ipiv (at least min(m, n) entries) receives
// the row interchanges, 0-based like gonum's Dgetrf: row i was interchanged
// with row ipiv[i] >= i, in the order i = 0, 1, ...; LAPACK's IPIV is
// ipiv[i] + 1.
//
// If a pivot is exactly zero it returns a *ZeroPivotError whose Column is
// LAPACK's INFO; the factorization is completed all the same.
//
// With cgo it calls OpenBLAS's DGETRF (its recursive, parallel-capable
// getrf, one thread unless SetNumThreads says otherwise); without cgo, the
// pure-Go recursive GetrfGo.
func Getrf(m, n int, a []float64, lda int, ipiv []int32) error {
	checkArray(m, n, a, lda)
	if len(ipiv) < min(m, n) {
		panic(errIpivShort)
	}
	if m == 0 || n == 0 {
		return nil
	}
	if info := lapackGetrf(m, n, a, lda, ipiv); info != 0 {
		return &ZeroPivotError{Column: info, M: m, N: n}
	}
	return nil
}

// GetrfGo is Getrf on a pure-Go recursive factorization (LAPACK's DGETRF2
// algorithm: split the columns in two, factor the left half, update and
// factor the right half), whose level-3 calls go through Trsm and Gemm. It
// is the kernel of builds without cgo, and a reference for tests.
func GetrfGo(m, n int, a []float64, lda int, ipiv []int32) error {
	checkArray(m, n, a, lda)
	if len(ipiv) < min(m, n) {
		panic(errIpivShort)
	}
	if info := getrf2(m, n, a, lda, ipiv, true); info != 0 {
		return &ZeroPivotError{Column: info, M: m, N: n}
	}
	return nil
}

// GetrfNoPiv computes the LU factorization A = L U of the m x n
// column-major A without pivoting (same recursion as GetrfGo). It is stable
// for diagonally dominant and symmetric positive definite matrices and
// may fail or lose all accuracy otherwise. A zero pivot gives a
// *ZeroPivotError (Column is the 1-based index of the first one); the
// columns below it are then left unscaled and the factorization goes on.
func GetrfNoPiv(m, n int, a []float64, lda int) error {
	checkArray(m, n, a, lda)
	if info := getrf2(m, n, a, lda, nil, false); info != 0 {
		return &ZeroPivotError{Column: info, M: m, N: n}
	}
	return nil
}

// getrf2 is LAPACK's DGETRF2 on a column-major array, with 0-based ipiv;
// pivot false skips the pivot search (ipiv is then unused). It returns
// INFO.
func getrf2(m, n int, a []float64, lda int, ipiv []int32, pivot bool) int {
	if m == 0 || n == 0 {
		return 0
	}
	if m == 1 {
		if pivot {
			ipiv[0] = 0
		}
		if a[0] == 0 {
			return 1
		}
		return 0
	}
	if n == 1 {
		p := 0
		if pivot {
			best := math.Abs(a[0])
			for i := 1; i < m; i++ {
				if v := math.Abs(a[i]); v > best || math.IsNaN(v) && !math.IsNaN(best) {
					p, best = i, v
				}
			}
			ipiv[0] = int32(p)
		}
		if a[p] == 0 {
			return 1
		}
		if p != 0 {
			a[0], a[p] = a[p], a[0]
		}
		if math.Abs(a[0]) >= getrfSfmin {
			r := 1 / a[0]
			for i := 1; i < m; i++ {
				a[i] *= r
			}
		} else {
			for i := 1; i < m; i++ {
				a[i] /= a[0]
			}
		}
		return 0
	}
	n1 := min(m, n) / 2
	n2 := n - n1
	info := getrf2(m, n1, a, lda, ipiv, pivot)
	right := a[n1*lda:]
	if pivot {
		laswp(n2, right, lda, 0, n1, ipiv)
	}
	Trsm(blas.Left, blas.Lower, blas.NoTrans, blas.Unit, n1, n2, 1, a, lda, right, lda)
	Gemm(blas.NoTrans, blas.NoTrans, m-n1, n2, n1, -1, a[n1:], lda, right, lda, 1, right[n1:], lda)
	var sub []int32
	if pivot {
		sub = ipiv[n1:]
	}
	if i2 := getrf2(m-n1, n2, right[n1:], lda, sub, pivot); info == 0 && i2 > 0 {
		info = i2 + n1
	}
	if pivot {
		k := min(m, n)
		for i := n1; i < k; i++ {
			ipiv[i] += int32(n1)
		}
		laswp(n1, a, lda, n1, k, ipiv)
	}
	return info
}

// laswp applies the interchanges ipiv[k1:k2] (row i with row ipiv[i],
// 0-based, in increasing i) to the n columns of the column-major a.
func laswp(n int, a []float64, lda int, k1, k2 int, ipiv []int32) {
	for j := 0; j < n; j++ {
		col := a[j*lda:]
		for i := k1; i < k2; i++ {
			if p := int(ipiv[i]); p != i {
				col[i], col[p] = col[p], col[i]
			}
		}
	}
}

// Laswp applies the row interchanges ipiv[k1:k2] to the n columns of the
// column-major A (leading dimension lda), as LAPACK DLASWP with INCX = 1:
// for i = k1, ..., k2-1, row i is interchanged with row ipiv[i] (0-based,
// as Getrf gives them).
func Laswp(n int, a []float64, lda int, k1, k2 int, ipiv []int32) {
	if n < 0 || k1 < 0 || k2 < k1 {
		panic(errShape)
	}
	if len(ipiv) < k2 {
		panic(errIpivShort)
	}
	if n == 0 || k1 == k2 {
		return
	}
	rows := 0
	for i := k1; i < k2; i++ {
		rows = max(rows, i+1, int(ipiv[i])+1)
	}
	checkArray(rows, n, a, lda)
	laswp(n, a, lda, k1, k2, ipiv)
}
