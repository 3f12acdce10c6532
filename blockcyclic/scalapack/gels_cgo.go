//go:build scalapack && cgo && !mpich

// PDGELS and PDTRAN, for comparing blockcyclic.Gels and Tran with
// ScaLAPACK. Its twin gels_omit.go keeps the API for builds without the
// scalapack tag; keep the two in sync. The helpers (local, transChar,
// infoErr) are scalapack_cgo.go's.

package scalapack

/*
#cgo pkg-config: scalapack-openmpi
#include <stddef.h>

typedef size_t flen;
void pdgels_(const char *trans, const int *m, const int *n, const int *nrhs, double *a, const int *ia, const int *ja,
	const int *desca, double *b, const int *ib, const int *jb, const int *descb, double *work, const int *lwork,
	int *info, flen);
void pdtran_(const int *m, const int *n, const double *alpha, const double *a, const int *ia, const int *ja,
	const int *desca, const double *beta, double *c, const int *ic, const int *jc, const int *descc);

// A local array that holds nothing on this process still needs a valid
// address.
static double spmd_gels_dummy[1];
static double *gdp(double *p) { return p ? p : spmd_gels_dummy; }

// spmd_pdgels with lwork = -1 stores the minimal workspace size in work[0].
static int spmd_pdgels(char trans, int m, int n, int nrhs, double *a, int ia, int ja, const int *desca,
		double *b, int ib, int jb, const int *descb, double *work, int lwork) {
	int info = 0;
	pdgels_(&trans, &m, &n, &nrhs, gdp(a), &ia, &ja, desca, gdp(b), &ib, &jb, descb, gdp(work), &lwork, &info, 1);
	return info;
}

static void spmd_pdtran(int m, int n, double alpha, double *a, int ia, int ja, const int *desca,
		double beta, double *c, int ic, int jc, const int *descc) {
	pdtran_(&m, &n, &alpha, gdp(a), &ia, &ja, desca, &beta, gdp(c), &ic, &jc, descc);
}
*/
import "C"

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic"
)

// Pdgels solves overdetermined or underdetermined systems with the full
// rank m x n sub(A) at (ia, ja) or its transpose (trans blas.Trans), as
// PDGELS: least squares for the tall case, the minimum norm solution for
// the wide one (QR of A for m >= n, LQ for m < n). sub(B) at (ib, jb) is
// max(m, n) x nrhs: the right hand sides in its first m (NoTrans) or n
// (Trans) rows on entry, X in its first n (NoTrans) or m (Trans) rows on
// return; sub(A) is overwritten by the factorization. ScaLAPACK wants
// B's row blocks aligned with A's (MB_B = MB_A for m >= n, NB_A for
// m < n) on the same grid. It finds and allocates the workspace itself (a
// query with LWORK = -1 first). PDGELS does not look for a singular R:
// a rank-deficient A gives Inf or NaN, not INFO > 0.
func Pdgels(trans blas.Transpose, m, n, nrhs int, a []float64, ia, ja int, descA blockcyclic.Desc,
	b []float64, ib, jb int, descB blockcyclic.Desc) (int, error) {
	const r = "PDGELS"
	t, err := transChar(r, trans)
	if err != nil {
		return 0, err
	}
	if t == 'C' {
		t = 'T'
	}
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return 0, err
	}
	db, pb, err := local(r, "B", b, descB)
	if err != nil {
		return 0, err
	}
	var query [1]C.double
	info := int(C.spmd_pdgels(t, C.int(m), C.int(n), C.int(nrhs), pa, C.int(ia), C.int(ja), &da[0], pb, C.int(ib), C.int(jb), &db[0], &query[0], -1))
	if info != 0 {
		return info, infoErr(r, info)
	}
	work := make([]float64, max(1, int(query[0])))
	info = int(C.spmd_pdgels(t, C.int(m), C.int(n), C.int(nrhs), pa, C.int(ia), C.int(ja), &da[0], pb, C.int(ib), C.int(jb), &db[0], (*C.double)(&work[0]), C.int(len(work))))
	return info, infoErr(r, info)
}

// Pdtran computes sub(C) = beta sub(C) + alpha sub(A)ᵀ, as PBLAS PDTRAN:
// sub(C) is the m x n submatrix at (ic, jc), sub(A) the n x m one at
// (ia, ja). PDTRAN has no INFO: the Go checks return an error only for
// what they can see (the local array sizes).
func Pdtran(m, n int, alpha float64, a []float64, ia, ja int, descA blockcyclic.Desc,
	beta float64, c []float64, ic, jc int, descC blockcyclic.Desc) error {
	const r = "PDTRAN"
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return err
	}
	dc, pc, err := local(r, "C", c, descC)
	if err != nil {
		return err
	}
	if m < 0 || n < 0 {
		return &ArgError{Routine: r, Reason: fmt.Sprintf("negative size %d x %d", m, n)}
	}
	C.spmd_pdtran(C.int(m), C.int(n), C.double(alpha), pa, C.int(ia), C.int(ja), &da[0], C.double(beta), pc, C.int(ic), C.int(jc), &dc[0])
	return nil
}
