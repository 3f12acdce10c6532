//go:build cgo

// The OpenBLAS layer: the only file of the package that calls C. Its twin
// openblas_nocgo.go keeps the same functions for builds without cgo, on
// gonum's pure-Go BLAS; keep the two in sync.

package kernels

/*
#cgo pkg-config: openblas
#cgo nocallback spmd_dpotrf
#cgo noescape spmd_dpotrf
#cgo nocallback spmd_dtrtri
#cgo noescape spmd_dtrtri

// OpenBLAS's own extensions (openblas_config.h; declared here so that no
// header path beyond pkg-config's is needed).
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_corename(void);
char *openblas_get_config(void);

// LAPACK's DPOTRF, which Debian's libopenblas carries (OpenBLAS ships its own
// optimised POTRF). Fortran INTEGER is a C int in the LP64 build; the hidden
// length of the CHARACTER argument is passed explicitly, as gfortran expects.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, unsigned long uplo_len);

static int spmd_dpotrf(char uplo, int n, double *a, int lda) {
	int info = 0;
	dpotrf_(&uplo, &n, a, &lda, &info, 1);
	return info;
}

// LAPACK's DTRTRI (OpenBLAS's own, like DPOTRF).
void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info,
	unsigned long uplo_len, unsigned long diag_len);

static int spmd_dtrtri(char uplo, char diag, int n, double *a, int lda) {
	int info = 0;
	dtrtri_(&uplo, &diag, &n, a, &lda, &info, 1, 1);
	return info;
}
*/
import "C"

import (
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// impl is the row-major BLAS every kernel calls: gonum's cgo binding of
// CBLAS, which resolves against OpenBLAS because of this file's pkg-config
// line.
var impl blas.Float64 = netlib.Implementation{}

// Cgo reports whether the package was built with cgo, that is whether the
// kernels run on OpenBLAS (true) or on gonum's pure-Go BLAS (false).
const Cgo = true

func init() {
	// gonum's LAPACK (lapack64, lapack/gonum) and every other user of
	// blas64 in the program now run on OpenBLAS as well.
	blas64.Use(netlib.Implementation{})
	if !threadEnvSet() {
		C.openblas_set_num_threads(1)
	}
}

// SetNumThreads sets the number of threads OpenBLAS uses for one call
// (openblas_set_num_threads). The package sets 1 at start-up unless
// OPENBLAS_NUM_THREADS, GOTO_NUM_THREADS or OMP_NUM_THREADS is set: the
// runtime calls kernels from one worker goroutine per core.
func SetNumThreads(n int) {
	if n < 1 {
		panic(errThreads)
	}
	C.openblas_set_num_threads(C.int(n))
}

// NumThreads returns the number of threads OpenBLAS uses for one call
// (openblas_get_num_threads).
func NumThreads() int { return int(C.openblas_get_num_threads()) }

// CoreName returns the name of the kernel set OpenBLAS picked when it loaded
// (openblas_get_corename), for example "Haswell" or "SkylakeX". OpenBLAS
// names it in lower or mixed case depending on the version; the string is
// returned as OpenBLAS gives it.
func CoreName() string { return C.GoString(C.openblas_get_corename()) }

// Config returns OpenBLAS's build description (openblas_get_config), for
// example "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
func Config() string { return C.GoString(C.openblas_get_config()) }

// lapackTrtri is LAPACK's DTRTRI on a column-major n x n array: the INFO
// it returns (0, or the 1-based index of an exactly zero diagonal entry).
func lapackTrtri(ul blas.Uplo, d blas.Diag, n int, a []float64, lda int) int {
	u, dg := C.char('L'), C.char('N')
	if ul == blas.Upper {
		u = 'U'
	}
	if d == blas.Unit {
		dg = 'U'
	}
	return int(C.spmd_dtrtri(u, dg, C.int(n), (*C.double)(unsafe.Pointer(&a[0])), C.int(lda)))
}

// lapackPotrf is LAPACK's DPOTRF on a column-major n x n array: the INFO it
// returns (0, or the 1-based column of the first non-positive pivot).
func lapackPotrf(ul blas.Uplo, n int, a []float64, lda int) int {
	u := C.char('L')
	if ul == blas.Upper {
		u = 'U'
	}
	return int(C.spmd_dpotrf(u, C.int(n), (*C.double)(unsafe.Pointer(&a[0])), C.int(lda)))
}
