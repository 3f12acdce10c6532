package rma

import (
	"fmt"

	"github.com/spmd-go/spmd/mpi"
)

// rmaErr is an error this package found before calling MPI: an *mpi.Error
// of the class of sentinel (errors.Is(err, sentinel) holds) naming call.
func rmaErr(sentinel *mpi.Error, call, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	// ErrorFromCode is the only way to make an *mpi.Error of a given class
	// from outside package mpi: a class number is a valid error code.
	if e, ok := mpi.ErrorFromCode(sentinel.Class, call).(*mpi.Error); ok {
		e.Msg = msg
		return e
	}
	return fmt.Errorf("rma: %s: %s", call, msg)
}

func mpiErr(rc int, call string) error { return mpi.ErrorFromCode(rc, call) }
