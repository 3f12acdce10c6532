package mpi

import "fmt"

// Error is an error returned by an MPI call, or found by the binding's own
// checks before the call reached MPI. Use errors.Is against the Err*
// sentinels to test the class.
type Error struct {
	// Class is the MPI error class (MPI_Error_class of Code) as the library
	// numbers it. For errors found by the binding it is the class MPI would
	// have reported.
	Class int
	// Code is the error code MPI returned; equal to Class for errors found
	// by the binding.
	Code int
	// Call names the MPI function, for example "MPI_Send".
	Call string
	// Msg is the library's error string (MPI_Error_string) or the binding's
	// description of what was wrong.
	Msg string

	cls errClass
}

func (e *Error) Error() string {
	if e.Call == "" {
		return "mpi: " + e.Msg
	}
	return fmt.Sprintf("mpi: %s: %s", e.Call, e.Msg)
}

// Is reports whether target is the sentinel of e's class.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == 0 && t.Call == "" && t.cls == e.cls
}

// errClass is the binding's own, implementation-independent numbering of the
// MPI error classes; the order matches spmd_err_class in shim.h.
type errClass int

const (
	clsSuccess errClass = iota
	clsBuffer
	clsCount
	clsType
	clsTag
	clsComm
	clsRank
	clsRequest
	clsRoot
	clsGroup
	clsOp
	clsTopology
	clsDims
	clsArg
	clsUnknown
	clsTruncate
	clsOther
	clsIntern
	clsInStatus
	clsPending
	clsWin
	clsDisp
	clsRMASync
	clsRMARange
	clsRMAConflict
	clsSize
	clsNoMem
	clsBase
	clsLocktype
	clsAssert
	clsRMAAttach
	clsRMAShared
	numMPIClasses
)

// Classes of errors that MPI itself has no class for.
const (
	clsNotInitialized errClass = 100 + iota
	clsFinalized
	clsNoCgo
)

func sentinel(c errClass, msg string) *Error { return &Error{cls: c, Msg: msg} }

// Sentinels for errors.Is. Each matches every *Error of its class.
var (
	ErrBuffer      = sentinel(clsBuffer, "invalid buffer (MPI_ERR_BUFFER)")
	ErrCount       = sentinel(clsCount, "invalid count (MPI_ERR_COUNT)")
	ErrType        = sentinel(clsType, "invalid datatype (MPI_ERR_TYPE)")
	ErrTag         = sentinel(clsTag, "invalid tag (MPI_ERR_TAG)")
	ErrComm        = sentinel(clsComm, "invalid communicator (MPI_ERR_COMM)")
	ErrRank        = sentinel(clsRank, "invalid rank (MPI_ERR_RANK)")
	ErrRequest     = sentinel(clsRequest, "invalid request (MPI_ERR_REQUEST)")
	ErrRoot        = sentinel(clsRoot, "invalid root (MPI_ERR_ROOT)")
	ErrGroup       = sentinel(clsGroup, "invalid group (MPI_ERR_GROUP)")
	ErrOp          = sentinel(clsOp, "invalid operation (MPI_ERR_OP)")
	ErrTopology    = sentinel(clsTopology, "invalid topology (MPI_ERR_TOPOLOGY)")
	ErrDims        = sentinel(clsDims, "invalid dimensions (MPI_ERR_DIMS)")
	ErrArg         = sentinel(clsArg, "invalid argument (MPI_ERR_ARG)")
	ErrUnknown     = sentinel(clsUnknown, "unknown error (MPI_ERR_UNKNOWN)")
	ErrTruncate    = sentinel(clsTruncate, "message truncated (MPI_ERR_TRUNCATE)")
	ErrOther       = sentinel(clsOther, "other error (MPI_ERR_OTHER)")
	ErrIntern      = sentinel(clsIntern, "internal error (MPI_ERR_INTERN)")
	ErrInStatus    = sentinel(clsInStatus, "error in status (MPI_ERR_IN_STATUS)")
	ErrPending     = sentinel(clsPending, "pending request (MPI_ERR_PENDING)")
	ErrWin         = sentinel(clsWin, "invalid window (MPI_ERR_WIN)")
	ErrDisp        = sentinel(clsDisp, "invalid displacement (MPI_ERR_DISP)")
	ErrRMASync     = sentinel(clsRMASync, "RMA synchronization error (MPI_ERR_RMA_SYNC)")
	ErrRMARange    = sentinel(clsRMARange, "RMA target out of window (MPI_ERR_RMA_RANGE)")
	ErrRMAConflict = sentinel(clsRMAConflict, "conflicting RMA accesses (MPI_ERR_RMA_CONFLICT)")
	ErrSize        = sentinel(clsSize, "invalid size (MPI_ERR_SIZE)")
	ErrNoMem       = sentinel(clsNoMem, "out of memory (MPI_ERR_NO_MEM)")

	// ErrNotInitialized is returned by calls made before Init.
	ErrNotInitialized = sentinel(clsNotInitialized, "MPI is not initialized (call mpi.Init first)")
	// ErrFinalized is returned by calls made after Finalize.
	ErrFinalized = sentinel(clsFinalized, "MPI is finalized (call made after mpi.Finalize)")
	// ErrNoCgo is returned by every call when the binding was built without
	// cgo (CGO_ENABLED=0).
	ErrNoCgo = sentinel(clsNoCgo, "built without cgo (CGO_ENABLED=0): MPI is not available")
)

// setSentinelClasses fills in the library's class numbers of the sentinels
// (their Class field); called once the low layer knows them.
func setSentinelClasses() {
	for _, e := range []*Error{ErrBuffer, ErrCount, ErrType, ErrTag, ErrComm, ErrRank, ErrRequest, ErrRoot,
		ErrGroup, ErrOp, ErrTopology, ErrDims, ErrArg, ErrUnknown, ErrTruncate, ErrOther, ErrIntern,
		ErrInStatus, ErrPending, ErrWin, ErrDisp, ErrRMASync, ErrRMARange, ErrRMAConflict, ErrSize, ErrNoMem} {
		e.Class = classNums[e.cls]
	}
}

// classNums maps the binding's classes to the library's class numbers; it is
// filled in by the low layer at package initialisation.
var classNums [numMPIClasses]int

func clsOfNum(n int) errClass {
	for c, v := range classNums {
		if v == n && errClass(c) != clsSuccess {
			return errClass(c)
		}
	}
	return clsUnknown
}

// codeErr turns a non-success return code of call into an *Error with the
// library's message.
func codeErr(code int, call string) error {
	class := lowErrorClass(code)
	return &Error{Class: class, Code: code, Call: call, Msg: lowErrorString(code), cls: clsOfNum(class)}
}

// argErr is an error the binding found before calling MPI; c is the class
// MPI would have reported.
func argErr(c errClass, call, format string, args ...any) error {
	n := 0
	if c < numMPIClasses {
		n = classNums[c]
	}
	return &Error{Class: n, Code: n, Call: call, Msg: fmt.Sprintf(format, args...), cls: c}
}

// stateErr reports a call made before Init or after Finalize.
func stateErr(call string) error {
	s := ErrNotInitialized
	switch {
	case !lowAvailable:
		s = ErrNoCgo
	case state.Load() == stateFinalized:
		s = ErrFinalized
	}
	return &Error{Call: call, Msg: s.Msg, cls: s.cls, Code: -1}
}
