package rma

import "github.com/spmd-go/spmd/mpi"

// rmaErr is an error this package found before calling MPI: an *mpi.Error
// of the class of sentinel (errors.Is(err, sentinel) holds) naming call.
func rmaErr(sentinel *mpi.Error, call, format string, args ...any) error {
	return mpi.NewError(sentinel, call, format, args...)
}

func mpiErr(rc int, call string) error { return mpi.ErrorFromCode(rc, call) }
