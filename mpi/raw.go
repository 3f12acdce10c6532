package mpi

// Raw handles, for other cgo packages of this module (rma, cudaaware) that
// call MPI functions the binding does not wrap. A handle is returned as a
// uintptr holding the C handle's value: a pointer in Open MPI, an integer in
// MPICH. In C, (MPI_Comm)(uintptr_t)h turns it back into the handle under
// either library. The binding keeps ownership: do not free these handles.

// Raw returns c's MPI_Comm handle.
func (c *Comm) Raw() uintptr { return rawComm(c.h) }

// RawDatatype returns the predefined MPI datatype the binding uses for T.
func RawDatatype[T Elem]() uintptr { return rawDatatype(kindOf[T]()) }

// Raw returns o's MPI_Op handle.
func (o Op) Raw() uintptr { return rawOp(o) }

// ElemSize returns the size in bytes of one element of the MPI datatype the
// binding uses for T.
func ElemSize[T Elem]() int {
	var z T
	return int(sizeof(z))
}

// ErrorFromCode turns an MPI return code of call into an *Error (nil for
// MPI_SUCCESS), for packages that call MPI themselves.
func ErrorFromCode(code int, call string) error {
	if code == 0 {
		return nil
	}
	return codeErr(code, call)
}

// CheckLive returns ErrNotInitialized, ErrFinalized or ErrNoCgo when MPI
// calls cannot be made now, naming call; nil otherwise.
func CheckLive(call string) error {
	if live() {
		return nil
	}
	return stateErr(call)
}

// NewError returns an *Error of sentinel's class for call, with a message
// made from format and args, for packages that check arguments before
// calling MPI themselves. errors.Is(err, sentinel) holds.
func NewError(sentinel *Error, call, format string, args ...any) error {
	return argErr(sentinel.cls, call, format, args...)
}

// Check returns an error if c cannot be used for call now: MPI not live, a
// nil communicator, or one that was freed.
func (c *Comm) Check(call string) error { return c.check(call) }
