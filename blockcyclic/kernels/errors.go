package kernels

import "fmt"

// Panic messages for misuse, in one place as gonum keeps them.
const (
	errThreads = "kernels: number of threads must be positive"
	errShape   = "kernels: negative dimension"
	errLd      = "kernels: leading dimension less than the number of rows"
	errShort   = "kernels: slice too short for its dimensions and leading dimension"
	errUplo    = "kernels: bad blas.Uplo"
	errTrans   = "kernels: bad blas.Transpose"
	errN       = "kernels: n must be positive"
	errDiag    = "kernels: bad blas.Diag"
	errSide    = "kernels: bad blas.Side"
)

// NotPositiveDefiniteError reports that a Cholesky factorization met a
// leading minor that is not positive definite. Column is LAPACK's INFO: the
// 1-based column of the first non-positive (or NaN) pivot, counted within the
// factored matrix. On return the columns before it hold the factor and the
// pivot's diagonal entry holds the non-positive value met there.
type NotPositiveDefiniteError struct {
	Column int // 1-based, as LAPACK's INFO
	N      int // order of the matrix that was factored
}

func (e *NotPositiveDefiniteError) Error() string {
	return fmt.Sprintf("kernels: matrix of order %d is not positive definite: leading minor of order %d (INFO = %d)",
		e.N, e.Column, e.Column)
}

// SingularError reports a triangular matrix with an exactly zero diagonal
// entry. Index is LAPACK's INFO: the 1-based position of the first one.
type SingularError struct {
	Index int
	N     int // order of the matrix
}

func (e *SingularError) Error() string {
	return fmt.Sprintf("kernels: triangular matrix of order %d is singular: diagonal entry %d is zero (INFO = %d)",
		e.N, e.Index, e.Index)
}
