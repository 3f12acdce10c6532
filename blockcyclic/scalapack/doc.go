// Package scalapack calls ScaLAPACK's drivers (PDPOTRF, PDPOTRS, PDGEMM,
// PDGETRF, PDGETRS, PDGEQRF) on a BLACS grid made from one of our MPI
// communicators, so that programs can run ScaLAPACK on the same matrix and
// distribution as package blockcyclic, in the same job, and compare.
//
// It is built with the scalapack build tag and cgo against Debian's
// Open MPI ScaLAPACK (libscalapack-openmpi-dev, pkg-config
// scalapack-openmpi), which runs on the same OpenBLAS as package kernels.
// Without the tag (or with -tags mpich, for which no ScaLAPACK is wired up)
// the package keeps its API: NewGrid returns ErrNotBuilt and Available is
// false.
//
//	go test -tags scalapack ./blockcyclic/scalapack
//
// # Conventions
//
// Everything is ScaLAPACK's, unchanged: the local array of a distributed
// matrix is column-major with leading dimension LLD_ (see
// blockcyclic.Desc), global indices IA, JA of a submatrix are 1-based, and
// process coordinates are 0-based. Options use gonum's blas.Uplo and
// blas.Transpose. Routines return LAPACK's INFO: 0 on success, > 0 for a
// numerical result (PDPOTRF: the leading minor of order INFO is not positive
// definite; PDGETRF: U(INFO, INFO) is exactly zero), and an *ArgError for
// INFO < 0 (an illegal argument, -(100 i + j) for entry j of descriptor
// argument i, as ScaLAPACK counts). ScaLAPACK also prints its own message
// for illegal arguments (PXERBLA).
//
// # Collectives
//
// NewGrid, Grid.Exit and every driver are collective over the grid: every
// process of the grid calls them in the same order with matching
// arguments. A process of the communicator outside the P x Q grid gets a
// Grid with InGrid false and must not call the drivers. The grid lives on
// its own BLACS system context made from the communicator
// (Csys2blacs_handle), so ScaLAPACK's messages never mix with the runtime's.
// MPI must be initialised (mpi.Init) before NewGrid and not finalised before
// Grid.Exit. Calls block the calling goroutine until ScaLAPACK returns.
package scalapack
