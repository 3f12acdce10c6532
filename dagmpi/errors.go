package dagmpi

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrClosed is returned by calls on a Runtime after Close.
	ErrClosed = errors.New("dagmpi: runtime closed")
	// ErrAborted is wrapped by the error a rank sees when another rank
	// ended the job (see Controller.Abort).
	ErrAborted = errors.New("dagmpi: job aborted")
	// ErrTaskFailed is wrapped by the error of a task that returned an
	// error or panicked.
	ErrTaskFailed = errors.New("dagmpi: task failed")
	// ErrNoProgress is wrapped by the watchdog's error.
	ErrNoProgress = errors.New("dagmpi: no progress")
	// ErrNotSPMD is wrapped by the error of the consistency check when
	// ranks submitted different graphs.
	ErrNotSPMD = errors.New("dagmpi: ranks submitted different task graphs")
	// ErrTransport is wrapped by errors a Transport reported.
	ErrTransport = errors.New("dagmpi: transport failed")
)

// AbortError is what a rank's Transport reports when another rank called
// Controller.Abort. It wraps ErrAborted.
type AbortError struct {
	Rank int    // the rank that aborted
	Msg  string // its message
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("dagmpi: job aborted by rank %d: %s", e.Rank, e.Msg)
}

func (e *AbortError) Unwrap() error { return ErrAborted }

// failure is an error the runtime found itself, with its cause for errors.Is.
type failure struct {
	msg   string
	kind  error // one of the sentinels
	cause error // the task's error or panic value, if any
}

func (e *failure) Error() string { return e.msg }

func (e *failure) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// Messages of misuse panics.
const (
	errNilRuntime   = "dagmpi: nil *Runtime"
	errNilData      = "dagmpi: nil *Data"
	errForeignData  = "dagmpi: Data belongs to another Runtime"
	errNotInTask    = "dagmpi: Data.Buf: the task did not declare an access to this Data"
	errDeviceBuf    = "dagmpi: Data.Buf: the Data lives on a device: use Data.Mem in a task submitted with OnDevice"
	errNotDevice    = "dagmpi: Data.Mem: the Data is not a device handle (NewDeviceData)"
	errNilTransport = "dagmpi: New: nil Transport"
)
