//go:build !scalapack || !cgo || mpich

// The twin of scalapack_cgo.go for builds without ScaLAPACK: the same API,
// every call returning ErrNotBuilt. Keep the two in sync.

package scalapack

import (
	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/mpi"
)

// Available reports whether the package was built with ScaLAPACK.
const Available = false

// NewGrid returns ErrNotBuilt: the package was built without ScaLAPACK.
func NewGrid(comm *mpi.Comm, p, q int, order blockcyclic.Order) (*Grid, error) {
	return nil, ErrNotBuilt
}

// Exit returns ErrNotBuilt.
func (g *Grid) Exit() error { return ErrNotBuilt }

// Pdpotrf returns ErrNotBuilt.
func Pdpotrf(uplo blas.Uplo, n int, a []float64, ia, ja int, descA blockcyclic.Desc) (int, error) {
	return 0, ErrNotBuilt
}

// Pdpotrs returns ErrNotBuilt.
func Pdpotrs(uplo blas.Uplo, n, nrhs int, a []float64, ia, ja int, descA blockcyclic.Desc,
	b []float64, ib, jb int, descB blockcyclic.Desc) (int, error) {
	return 0, ErrNotBuilt
}

// Pdgemm returns ErrNotBuilt.
func Pdgemm(transA, transB blas.Transpose, m, n, k int, alpha float64,
	a []float64, ia, ja int, descA blockcyclic.Desc,
	b []float64, ib, jb int, descB blockcyclic.Desc,
	beta float64, c []float64, ic, jc int, descC blockcyclic.Desc) error {
	return ErrNotBuilt
}

// Pdgetrf returns ErrNotBuilt.
func Pdgetrf(m, n int, a []float64, ia, ja int, descA blockcyclic.Desc, ipiv []int32) (int, error) {
	return 0, ErrNotBuilt
}

// Pdgetrs returns ErrNotBuilt.
func Pdgetrs(trans blas.Transpose, n, nrhs int, a []float64, ia, ja int, descA blockcyclic.Desc, ipiv []int32,
	b []float64, ib, jb int, descB blockcyclic.Desc) (int, error) {
	return 0, ErrNotBuilt
}

// Pdgeqrf returns ErrNotBuilt.
func Pdgeqrf(m, n int, a []float64, ia, ja int, descA blockcyclic.Desc, tau []float64) (int, error) {
	return 0, ErrNotBuilt
}
