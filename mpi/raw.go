package mpi

import "unsafe"

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

// AllocMem returns n bytes of memory from the library (MPI_Alloc_mem): not
// Go memory, so requests on it pin nothing, and possibly registered with the
// network for faster transfers. The caller frees it with FreeMem, before
// Finalize; the garbage collector never does.
func AllocMem(n int) ([]byte, error) {
	if !live() {
		return nil, stateErr("MPI_Alloc_mem")
	}
	if n <= 0 {
		return nil, argErr(clsArg, "MPI_Alloc_mem", "size %d: want at least 1 byte", n)
	}
	p, rc := lowAllocMem(n)
	if rc != 0 {
		return nil, codeErr(rc, "MPI_Alloc_mem")
	}
	return unsafe.Slice((*byte)(p), n), nil
}

// FreeMem releases memory from AllocMem (MPI_Free_mem); b must be the whole
// slice AllocMem returned, and no request may still use it.
func FreeMem(b []byte) error {
	if !live() {
		return stateErr("MPI_Free_mem")
	}
	if len(b) == 0 {
		return argErr(clsArg, "MPI_Free_mem", "empty slice")
	}
	if rc := lowFreeMem(unsafe.Pointer(unsafe.SliceData(b))); rc != 0 {
		return codeErr(rc, "MPI_Free_mem")
	}
	return nil
}

// IsendUnsafe starts a send of n elements of T at address p to dest
// (MPI_Isend), for buffers that are not Go slices: memory from C, or device
// memory handed to a CUDA-aware MPI (package cudaaware). p must stay valid
// and unmodified until the request completes. If p points into Go memory,
// the request pins it like Isend does; other memory is passed to MPI as is
// and is not Go's to pin, which is what makes device pointers legal here (a
// device address is never a Go pointer, so cgo's pointer checks pass it
// through). A nil p is allowed only with n == 0.
func IsendUnsafe[T Elem](c *Comm, p unsafe.Pointer, n, dest, tag int) (Request, error) {
	if err := c.checkSend("MPI_Isend", n, dest, tag); err != nil {
		return Request{}, err
	}
	if err := checkUnsafe("MPI_Isend", p, n); err != nil {
		return Request{}, err
	}
	b := buf{p: p, n: n, k: kindOf[T]()}
	h, rc := lowIsend(modeStd, b, dest, tag, c.h)
	if rc != 0 {
		return Request{}, codeErr(rc, "MPI_Isend")
	}
	return newRequest(h, b.k, false, p, nil), nil
}

// IrecvUnsafe starts a receive of up to n elements of T into address p
// (MPI_Irecv); see IsendUnsafe for the rules on p.
func IrecvUnsafe[T Elem](c *Comm, p unsafe.Pointer, n, source, tag int) (Request, error) {
	if err := c.checkRecv("MPI_Irecv", n, source, tag); err != nil {
		return Request{}, err
	}
	if err := checkUnsafe("MPI_Irecv", p, n); err != nil {
		return Request{}, err
	}
	b := buf{p: p, n: n, k: kindOf[T]()}
	h, rc := lowIrecv(b, source, tag, c.h)
	if rc != 0 {
		return Request{}, codeErr(rc, "MPI_Irecv")
	}
	return newRequest(h, b.k, false, p, nil), nil
}

func checkUnsafe(call string, p unsafe.Pointer, n int) error {
	if n < 0 {
		return argErr(clsCount, call, "negative count %d", n)
	}
	if p == nil && n > 0 {
		return argErr(clsBuffer, call, "nil address with count %d", n)
	}
	return nil
}
