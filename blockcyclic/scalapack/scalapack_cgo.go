//go:build scalapack && cgo && !mpich

// The ScaLAPACK layer: the only file of the package that calls C. Its twin
// scalapack_omit.go keeps the API for builds without the scalapack tag;
// keep the two in sync.

package scalapack

/*
#cgo pkg-config: scalapack-openmpi
#include <stdint.h>
#include <stddef.h>
#include <mpi.h>

// BLACS C interface (Debian's ScaLAPACK 2.x carries BLACS).
int Csys2blacs_handle(MPI_Comm comm);
void Cfree_blacs_system_handle(int handle);
void Cblacs_gridinit(int *ctxt, char *order, int nprow, int npcol);
void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
void Cblacs_gridexit(int ctxt);

// ScaLAPACK and PBLAS, Fortran interface: every argument by reference,
// INTEGER is a C int (LP64), and each CHARACTER argument has a hidden length
// at the end (ignored by the C-written PBLAS, needed by gfortran code).
typedef size_t flen;
void pdpotrf_(const char *uplo, const int *n, double *a, const int *ia, const int *ja, const int *desca, int *info, flen);
void pdpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *ia, const int *ja, const int *desca,
	double *b, const int *ib, const int *jb, const int *descb, int *info, flen);
void pdgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k, const double *alpha,
	const double *a, const int *ia, const int *ja, const int *desca,
	const double *b, const int *ib, const int *jb, const int *descb,
	const double *beta, double *c, const int *ic, const int *jc, const int *descc, flen, flen);
void pdgetrf_(const int *m, const int *n, double *a, const int *ia, const int *ja, const int *desca, int *ipiv, int *info);
void pdgetrs_(const char *trans, const int *n, const int *nrhs, const double *a, const int *ia, const int *ja, const int *desca,
	const int *ipiv, double *b, const int *ib, const int *jb, const int *descb, int *info, flen);
void pdgeqrf_(const int *m, const int *n, double *a, const int *ia, const int *ja, const int *desca, double *tau,
	double *work, const int *lwork, int *info);

// ScaLAPACK may take the address of a local array that holds nothing on
// this process; give it a valid one.
static double spmd_dummy[1];
static int spmd_idummy[1];
static double *dp(double *p) { return p ? p : spmd_dummy; }
static int *ip(int *p) { return p ? p : spmd_idummy; }

static int spmd_sys_handle(uintptr_t comm) { return Csys2blacs_handle((MPI_Comm)comm); }

static int spmd_gridinit(int sys, char order, int nprow, int npcol) {
	int ctxt = sys;
	char o[2] = {order, 0};
	Cblacs_gridinit(&ctxt, o, nprow, npcol);
	return ctxt;
}

static void spmd_gridinfo(int ctxt, int *info4) {
	Cblacs_gridinfo(ctxt, &info4[0], &info4[1], &info4[2], &info4[3]);
}

static int spmd_pdpotrf(char uplo, int n, double *a, int ia, int ja, const int *desca) {
	int info = 0;
	pdpotrf_(&uplo, &n, dp(a), &ia, &ja, desca, &info, 1);
	return info;
}

static int spmd_pdpotrs(char uplo, int n, int nrhs, double *a, int ia, int ja, const int *desca,
		double *b, int ib, int jb, const int *descb) {
	int info = 0;
	pdpotrs_(&uplo, &n, &nrhs, dp(a), &ia, &ja, desca, dp(b), &ib, &jb, descb, &info, 1);
	return info;
}

static void spmd_pdgemm(char ta, char tb, int m, int n, int k, double alpha,
		double *a, int ia, int ja, const int *desca, double *b, int ib, int jb, const int *descb,
		double beta, double *c, int ic, int jc, const int *descc) {
	pdgemm_(&ta, &tb, &m, &n, &k, &alpha, dp(a), &ia, &ja, desca, dp(b), &ib, &jb, descb,
		&beta, dp(c), &ic, &jc, descc, 1, 1);
}

static int spmd_pdgetrf(int m, int n, double *a, int ia, int ja, const int *desca, int *ipiv) {
	int info = 0;
	pdgetrf_(&m, &n, dp(a), &ia, &ja, desca, ip(ipiv), &info);
	return info;
}

static int spmd_pdgetrs(char trans, int n, int nrhs, double *a, int ia, int ja, const int *desca, int *ipiv,
		double *b, int ib, int jb, const int *descb) {
	int info = 0;
	pdgetrs_(&trans, &n, &nrhs, dp(a), &ia, &ja, desca, ip(ipiv), dp(b), &ib, &jb, descb, &info, 1);
	return info;
}

// spmd_pdgeqrf with lwork = -1 stores the optimal workspace size in work[0].
static int spmd_pdgeqrf(int m, int n, double *a, int ia, int ja, const int *desca, double *tau, double *work, int lwork) {
	int info = 0;
	pdgeqrf_(&m, &n, dp(a), &ia, &ja, desca, dp(tau), dp(work), &lwork, &info);
	return info;
}
*/
import "C"

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/mpi"
)

// Available reports whether the package was built with ScaLAPACK.
const Available = true

// NewGrid lays the first p*q processes of comm on a p x q BLACS grid in the
// given order (blockcyclic.RowMajor is BLACS's 'R', ColMajor its 'C') and
// returns it. It is collective over comm. Processes of comm beyond p*q get a
// Grid with InGrid false, which they must still Exit.
func NewGrid(comm *mpi.Comm, p, q int, order blockcyclic.Order) (*Grid, error) {
	if err := comm.Check("Csys2blacs_handle"); err != nil {
		return nil, err
	}
	var o C.char
	switch order {
	case blockcyclic.RowMajor:
		o = 'R'
	case blockcyclic.ColMajor:
		o = 'C'
	default:
		return nil, &ArgError{Routine: "BLACS_GRIDINIT", Reason: fmt.Sprintf("unknown grid order %v", order)}
	}
	if p < 1 || q < 1 || p*q > comm.Size() {
		return nil, &ArgError{Routine: "BLACS_GRIDINIT",
			Reason: fmt.Sprintf("a %d x %d grid does not fit a communicator of %d processes", p, q, comm.Size())}
	}
	sys := int(C.spmd_sys_handle(C.uintptr_t(comm.Raw())))
	ctxt := int(C.spmd_gridinit(C.int(sys), o, C.int(p), C.int(q)))
	g := &Grid{ctxt: ctxt, sys: sys, order: order, nprow: p, npcol: q, myrow: -1, mycol: -1}
	if comm.Rank() < p*q {
		var info [4]C.int
		C.spmd_gridinfo(C.int(ctxt), &info[0])
		if int(info[0]) != p || int(info[1]) != q {
			return nil, &ArgError{Routine: "BLACS_GRIDINIT",
				Reason: fmt.Sprintf("rank %d: BLACS made a %d x %d grid, want %d x %d", comm.Rank(), info[0], info[1], p, q)}
		}
		g.myrow, g.mycol = int(info[2]), int(info[3])
	}
	return g, nil
}

// Exit releases the grid's context and system handle (BLACS_GRIDEXIT). It
// is collective over the communicator the grid was made from; a second call
// does nothing.
func (g *Grid) Exit() error {
	if g.exited {
		return nil
	}
	g.exited = true
	if g.InGrid() {
		C.Cblacs_gridexit(C.int(g.ctxt))
	}
	C.Cfree_blacs_system_handle(C.int(g.sys))
	return nil
}

// cdesc is a descriptor as C ints, ready to pass.
type cdesc [blockcyclic.DLen]C.int

// local checks a local array against its descriptor on the calling process
// and returns the descriptor as C ints and a pointer to the array (nil for
// an empty one).
func local(routine, name string, a []float64, d blockcyclic.Desc) (*cdesc, *C.double, error) {
	if d[blockcyclic.DTYPE_] != blockcyclic.BlockCyclic2D {
		return nil, nil, &ArgError{Routine: routine, Reason: fmt.Sprintf("%s: DTYPE_ = %d is not a dense descriptor", name, d[blockcyclic.DTYPE_])}
	}
	var gi [4]C.int
	C.spmd_gridinfo(C.int(d[blockcyclic.CTXT_]), &gi[0])
	nprow, npcol, myrow, mycol := int(gi[0]), int(gi[1]), int(gi[2]), int(gi[3])
	if nprow < 1 || myrow < 0 || mycol < 0 {
		return nil, nil, &ArgError{Routine: routine, Reason: fmt.Sprintf("%s: CTXT_ = %d is not a grid this process belongs to", name, d[blockcyclic.CTXT_])}
	}
	var cd cdesc
	for i, v := range d.Int32() {
		cd[i] = C.int(v)
	}
	rows := d.LocalRows(myrow, nprow)
	cols := d.LocalCols(mycol, npcol)
	need := 0
	if rows > 0 && cols > 0 {
		need = d[blockcyclic.LLD_]*(cols-1) + rows
	}
	if len(a) < need {
		return nil, nil, &ArgError{Routine: routine, Reason: fmt.Sprintf(
			"%s: local array of %d elements, need %d (%d x %d local, LLD_ = %d, process (%d, %d))",
			name, len(a), need, rows, cols, d[blockcyclic.LLD_], myrow, mycol)}
	}
	if len(a) == 0 {
		return &cd, nil, nil
	}
	return &cd, (*C.double)(&a[0]), nil
}

func uploChar(routine string, ul blas.Uplo) (C.char, error) {
	switch ul {
	case blas.Lower:
		return 'L', nil
	case blas.Upper:
		return 'U', nil
	}
	return 0, &ArgError{Routine: routine, Reason: fmt.Sprintf("bad uplo %q", rune(ul))}
}

func transChar(routine string, t blas.Transpose) (C.char, error) {
	switch t {
	case blas.NoTrans:
		return 'N', nil
	case blas.Trans:
		return 'T', nil
	case blas.ConjTrans:
		return 'C', nil
	}
	return 0, &ArgError{Routine: routine, Reason: fmt.Sprintf("bad transpose %q", rune(t))}
}

// Pdpotrf computes the Cholesky factorization of the n x n submatrix
// sub(A) = A(ia:ia+n-1, ja:ja+n-1) (1-based) of the distributed symmetric
// positive definite A, as PDPOTRF, over its uplo triangle. It returns INFO:
// k > 0 if the leading minor of order k is not positive definite.
func Pdpotrf(uplo blas.Uplo, n int, a []float64, ia, ja int, descA blockcyclic.Desc) (int, error) {
	const r = "PDPOTRF"
	u, err := uploChar(r, uplo)
	if err != nil {
		return 0, err
	}
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return 0, err
	}
	info := int(C.spmd_pdpotrf(u, C.int(n), pa, C.int(ia), C.int(ja), &da[0]))
	return info, infoErr(r, info)
}

// Pdpotrs solves A X = B for nrhs right-hand sides with the factor Pdpotrf
// left in sub(A), overwriting sub(B) = B(ib:ib+n-1, jb:jb+nrhs-1), as
// PDPOTRS.
func Pdpotrs(uplo blas.Uplo, n, nrhs int, a []float64, ia, ja int, descA blockcyclic.Desc,
	b []float64, ib, jb int, descB blockcyclic.Desc) (int, error) {
	const r = "PDPOTRS"
	u, err := uploChar(r, uplo)
	if err != nil {
		return 0, err
	}
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return 0, err
	}
	db, pb, err := local(r, "B", b, descB)
	if err != nil {
		return 0, err
	}
	info := int(C.spmd_pdpotrs(u, C.int(n), C.int(nrhs), pa, C.int(ia), C.int(ja), &da[0], pb, C.int(ib), C.int(jb), &db[0]))
	return info, infoErr(r, info)
}

// Pdgemm computes sub(C) = alpha op(sub(A)) op(sub(B)) + beta sub(C), as
// PDGEMM: op(sub(A)) is m x k starting at (ia, ja), op(sub(B)) k x n at
// (ib, jb), sub(C) m x n at (ic, jc). PDGEMM has no INFO: ScaLAPACK reports
// illegal arguments by printing them (PXERBLA) and returning, so the Go
// checks here return an error only for what they can see (options, local
// array sizes).
func Pdgemm(transA, transB blas.Transpose, m, n, k int, alpha float64,
	a []float64, ia, ja int, descA blockcyclic.Desc,
	b []float64, ib, jb int, descB blockcyclic.Desc,
	beta float64, c []float64, ic, jc int, descC blockcyclic.Desc) error {
	const r = "PDGEMM"
	ta, err := transChar(r, transA)
	if err != nil {
		return err
	}
	tb, err := transChar(r, transB)
	if err != nil {
		return err
	}
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return err
	}
	db, pb, err := local(r, "B", b, descB)
	if err != nil {
		return err
	}
	dc, pc, err := local(r, "C", c, descC)
	if err != nil {
		return err
	}
	C.spmd_pdgemm(ta, tb, C.int(m), C.int(n), C.int(k), C.double(alpha),
		pa, C.int(ia), C.int(ja), &da[0], pb, C.int(ib), C.int(jb), &db[0],
		C.double(beta), pc, C.int(ic), C.int(jc), &dc[0])
	return nil
}

// pivots checks that ipiv can hold LOCr(M_A) + MB_A entries, as PDGETRF
// needs.
func pivots(routine string, ipiv []int32, d blockcyclic.Desc) (*C.int, error) {
	var gi [4]C.int
	C.spmd_gridinfo(C.int(d[blockcyclic.CTXT_]), &gi[0])
	need := d.LocalRows(int(gi[2]), int(gi[0])) + d[blockcyclic.MB_]
	if len(ipiv) < need {
		return nil, &ArgError{Routine: routine, Reason: fmt.Sprintf("ipiv has %d entries, need LOCr(M_A) + MB_A = %d", len(ipiv), need)}
	}
	return (*C.int)(&ipiv[0]), nil
}

// Pdgetrf computes the LU factorization with partial pivoting of the m x n
// sub(A) at (ia, ja), as PDGETRF. ipiv receives the local pivot indices
// (1-based global rows) and needs LOCr(M_A) + MB_A entries. It returns
// INFO: k > 0 if U(k, k) is exactly zero.
func Pdgetrf(m, n int, a []float64, ia, ja int, descA blockcyclic.Desc, ipiv []int32) (int, error) {
	const r = "PDGETRF"
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return 0, err
	}
	pi, err := pivots(r, ipiv, descA)
	if err != nil {
		return 0, err
	}
	info := int(C.spmd_pdgetrf(C.int(m), C.int(n), pa, C.int(ia), C.int(ja), &da[0], pi))
	return info, infoErr(r, info)
}

// Pdgetrs solves op(A) X = B with the factors and pivots Pdgetrf left,
// overwriting the n x nrhs sub(B) at (ib, jb), as PDGETRS.
func Pdgetrs(trans blas.Transpose, n, nrhs int, a []float64, ia, ja int, descA blockcyclic.Desc, ipiv []int32,
	b []float64, ib, jb int, descB blockcyclic.Desc) (int, error) {
	const r = "PDGETRS"
	t, err := transChar(r, trans)
	if err != nil {
		return 0, err
	}
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return 0, err
	}
	pi, err := pivots(r, ipiv, descA)
	if err != nil {
		return 0, err
	}
	db, pb, err := local(r, "B", b, descB)
	if err != nil {
		return 0, err
	}
	info := int(C.spmd_pdgetrs(t, C.int(n), C.int(nrhs), pa, C.int(ia), C.int(ja), &da[0], pi, pb, C.int(ib), C.int(jb), &db[0]))
	return info, infoErr(r, info)
}

// Pdgeqrf computes the QR factorization of the m x n sub(A) at (ia, ja), as
// PDGEQRF: R above the diagonal, the Householder vectors below, their
// scalars in tau, which needs LOCc(ja + min(m, n) - 1) entries. It finds
// and allocates the workspace itself (a query with LWORK = -1 first).
func Pdgeqrf(m, n int, a []float64, ia, ja int, descA blockcyclic.Desc, tau []float64) (int, error) {
	const r = "PDGEQRF"
	da, pa, err := local(r, "A", a, descA)
	if err != nil {
		return 0, err
	}
	var gi [4]C.int
	C.spmd_gridinfo(C.int(descA[blockcyclic.CTXT_]), &gi[0])
	need := 0
	if last := ja + min(m, n) - 1; last > 0 {
		need = blockcyclic.Numroc(last, descA[blockcyclic.NB_], int(gi[3]), descA[blockcyclic.CSRC_], int(gi[1]))
	}
	if len(tau) < need {
		return 0, &ArgError{Routine: r, Reason: fmt.Sprintf("tau has %d entries, need LOCc(JA+MIN(M,N)-1) = %d", len(tau), need)}
	}
	var pt *C.double
	if len(tau) > 0 {
		pt = (*C.double)(&tau[0])
	}
	var query [1]C.double
	info := int(C.spmd_pdgeqrf(C.int(m), C.int(n), pa, C.int(ia), C.int(ja), &da[0], pt, &query[0], -1))
	if info != 0 {
		return info, infoErr(r, info)
	}
	work := make([]float64, max(1, int(query[0])))
	info = int(C.spmd_pdgeqrf(C.int(m), C.int(n), pa, C.int(ia), C.int(ja), &da[0], pt, (*C.double)(&work[0]), C.int(len(work))))
	return info, infoErr(r, info)
}
