//go:build !cgo

// The pure-Go twin of openblas_cgo.go, for builds without cgo: the kernels
// run on gonum's native BLAS and LAPACK. Keep the two in sync.

package kernels

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	lapackgonum "gonum.org/v1/gonum/lapack/gonum"
)

var impl blas.Float64 = gonum.Implementation{}

// Cgo reports whether the package was built with cgo, that is whether the
// kernels run on OpenBLAS (true) or on gonum's pure-Go BLAS (false).
const Cgo = false

func init() { blas64.Use(gonum.Implementation{}) }

// SetNumThreads does nothing without cgo: gonum's BLAS uses one goroutine
// per call for level-3 routines of the sizes used here.
func SetNumThreads(n int) {
	if n < 1 {
		panic(errThreads)
	}
}

// NumThreads returns 1 without cgo.
func NumThreads() int { return 1 }

// CoreName returns "gonum (no cgo)" without cgo: no OpenBLAS is linked.
func CoreName() string { return "gonum (no cgo)" }

// Config returns a description of the pure-Go build.
func Config() string { return "gonum pure-Go BLAS (built without cgo)" }

// lapackTrtri falls back to gonum's Dtrtri on the row-major view (the
// transpose of a triangular matrix's inverse is the inverse of its
// transpose, in the other triangle).
func lapackTrtri(ul blas.Uplo, d blas.Diag, n int, a []float64, lda int) int {
	if (lapackgonum.Implementation{}).Dtrtri(flipUplo(ul), d, n, a, lda) {
		return 0
	}
	for j := 0; j < n; j++ {
		if a[j+j*lda] == 0 {
			return j + 1
		}
	}
	return n
}

// lapackPotrf falls back to gonum's Dpotrf; see potrfGonum.
func lapackPotrf(ul blas.Uplo, n int, a []float64, lda int) int {
	return potrfGonum(ul, n, a, lda)
}
