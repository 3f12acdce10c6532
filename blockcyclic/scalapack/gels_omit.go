//go:build !scalapack || !cgo || mpich

// The twin of gels_cgo.go for builds without ScaLAPACK: the same API,
// every call returning ErrNotBuilt. Keep the two in sync.

package scalapack

import (
	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic"
)

// Pdgels returns ErrNotBuilt.
func Pdgels(trans blas.Transpose, m, n, nrhs int, a []float64, ia, ja int, descA blockcyclic.Desc,
	b []float64, ib, jb int, descB blockcyclic.Desc) (int, error) {
	return 0, ErrNotBuilt
}

// Pdtran returns ErrNotBuilt.
func Pdtran(m, n int, alpha float64, a []float64, ia, ja int, descA blockcyclic.Desc,
	beta float64, c []float64, ic, jc int, descC blockcyclic.Desc) error {
	return ErrNotBuilt
}
