//go:build scalapack && cgo

package scalapackref

/*
#cgo LDFLAGS: -lscalapack-openmpi

// Fortran INTEGER is a C int in Debian's LP64 ScaLAPACK; every argument is
// passed by reference.
int numroc_(const int *n, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
int indxg2p_(const int *indxglob, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
int indxg2l_(const int *indxglob, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);
int indxl2g_(const int *indxloc, const int *nb, const int *iproc, const int *isrcproc, const int *nprocs);

typedef int (*tool)(const int *, const int *, const int *, const int *, const int *);

// call passes five ints by value so Go hands no pointers to C.
static int call(int which, int a, int b, int c, int d, int e) {
	static const tool tools[4] = {numroc_, indxg2p_, indxg2l_, indxl2g_};
	return tools[which](&a, &b, &c, &d, &e);
}
*/
import "C"

func call(which int, a, b, c, d, e int) int {
	return int(C.call(C.int(which), C.int(a), C.int(b), C.int(c), C.int(d), C.int(e)))
}

// Numroc is NUMROC(N, NB, IPROC, ISRCPROC, NPROCS).
func Numroc(n, nb, iproc, isrcproc, nprocs int) int { return call(0, n, nb, iproc, isrcproc, nprocs) }

// Indxg2p is INDXG2P(INDXGLOB, NB, IPROC, ISRCPROC, NPROCS); indxglob is 1-based.
func Indxg2p(indxglob, nb, iproc, isrcproc, nprocs int) int {
	return call(1, indxglob, nb, iproc, isrcproc, nprocs)
}

// Indxg2l is INDXG2L(INDXGLOB, NB, IPROC, ISRCPROC, NPROCS); indices are 1-based.
func Indxg2l(indxglob, nb, iproc, isrcproc, nprocs int) int {
	return call(2, indxglob, nb, iproc, isrcproc, nprocs)
}

// Indxl2g is INDXL2G(INDXLOC, NB, IPROC, ISRCPROC, NPROCS); indices are 1-based.
func Indxl2g(indxloc, nb, iproc, isrcproc, nprocs int) int {
	return call(3, indxloc, nb, iproc, isrcproc, nprocs)
}
