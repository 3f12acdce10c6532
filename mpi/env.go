package mpi

import (
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"
)

func init() {
	// Keep the main goroutine on the main OS thread, so that a program that
	// makes its MPI calls from main works at MPI_THREAD_FUNNELED and
	// MPI_THREAD_SERIALIZED, where MPI requires the calls to come from the
	// thread that called MPI_Init_thread.
	runtime.LockOSThread()
}

const (
	stateNew int32 = iota
	stateLive
	stateFinalized
)

// state is the binding's view of the MPI lifecycle; every call checks it so
// that calls before Init or after Finalize return errors instead of crashing
// inside the library.
var state atomic.Int32

var (
	world, self *Comm
	provided    ThreadLevel
)

// live reports whether MPI calls may be made now.
func live() bool { return state.Load() == stateLive }

// Init initialises MPI asking for MPI_THREAD_MULTIPLE. See InitThread.
func Init() error {
	_, err := InitThread(ThreadMultiple)
	return err
}

// InitThread initialises MPI asking for the thread level required and returns
// the level the library provides, which may be lower. It must be called by
// the main goroutine (which this package keeps on the main OS thread) before
// any other MPI call. World and Self return error codes from then on
// (MPI_ERRORS_RETURN). If MPI was already initialised (by C code in the same
// process), InitThread adopts it and returns the level in force.
//
// Unless the environment already sets OMPI_MCA_opal_signal, InitThread sets it
// empty so that Open MPI does not replace the Go runtime's signal handlers
// (which turn nil dereferences into panics).
func InitThread(required ThreadLevel) (ThreadLevel, error) {
	if !lowAvailable {
		return ThreadSingle, stateErr("MPI_Init_thread")
	}
	switch state.Load() {
	case stateLive:
		return provided, nil
	case stateFinalized:
		return ThreadSingle, stateErr("MPI_Init_thread")
	}
	if required < ThreadSingle || required > ThreadMultiple {
		return ThreadSingle, argErr(clsArg, "MPI_Init_thread", "thread level %d out of range", int(required))
	}
	if _, ok := os.LookupEnv("OMPI_MCA_opal_signal"); !ok {
		os.Setenv("OMPI_MCA_opal_signal", "")
	}
	p, rc := lowInit(required)
	if rc != 0 {
		return ThreadSingle, codeErr(rc, "MPI_Init_thread")
	}
	provided = p
	state.Store(stateLive)
	var err error
	if world, err = newComm(lowCommWorld(), "MPI_COMM_WORLD", true); err != nil {
		return p, err
	}
	if self, err = newComm(lowCommSelf(), "MPI_COMM_SELF", true); err != nil {
		return p, err
	}
	return p, nil
}

// Initialized reports whether MPI has been initialised (by this package or
// by C code in the process).
func Initialized() bool {
	return live() || (lowAvailable && state.Load() == stateNew && lowInitialized())
}

// Finalized reports whether MPI has been finalised.
func Finalized() bool { return state.Load() == stateFinalized }

// Provided returns the thread level granted by Init.
func Provided() ThreadLevel { return provided }

// Finalize ends MPI. Every later call returns ErrFinalized. Requests still
// pending are an error in the program: Finalize reports how many there were
// (after finalising, so that no rank is left waiting).
func Finalize() error {
	if !live() {
		return stateErr("MPI_Finalize")
	}
	pending := PendingRequests()
	rc := lowFinalize()
	state.Store(stateFinalized)
	unpinAll()
	if rc != 0 {
		return codeErr(rc, "MPI_Finalize")
	}
	if pending > 0 {
		return argErr(clsPending, "MPI_Finalize", "%d requests were still pending (never waited for or freed)", pending)
	}
	return nil
}

// Abort ends every process of c's job (MPI_Abort) with the given exit code.
// Before it does, it prints msg (if not empty) to standard error prefixed
// with this rank. It returns only if MPI could not abort.
func Abort(c *Comm, code int, msg string) error {
	if msg != "" {
		r := -1
		if c != nil {
			r = c.rank
		}
		fmt.Fprintf(os.Stderr, "mpi: rank %d aborting job (code %d): %s\n", r, code, msg)
	}
	if !live() {
		os.Exit(code)
	}
	if c == nil {
		c = world
	}
	return codeErr(lowAbort(c.h, code), "MPI_Abort")
}

// Wtime returns the elapsed wall-clock time in seconds since an arbitrary
// point in the past (MPI_Wtime).
func Wtime() float64 {
	if !lowAvailable {
		return float64(time.Since(epoch).Nanoseconds()) * 1e-9
	}
	return lowWtime()
}

var epoch = time.Now()

// Wtick returns the resolution of Wtime in seconds.
func Wtick() float64 {
	if !lowAvailable {
		return 1e-9
	}
	return lowWtick()
}

// ProcessorName returns the name of the processor (usually the host).
func ProcessorName() (string, error) {
	if !live() {
		return "", stateErr("MPI_Get_processor_name")
	}
	return lowProcessorName()
}

// Version returns the version of the MPI standard the library implements.
func Version() (major, minor int) {
	if !lowAvailable {
		return 0, 0
	}
	return lowVersion()
}

// LibraryVersion returns the library's version string
// (MPI_Get_library_version), for example "Open MPI v4.1.4, ...".
func LibraryVersion() string {
	if !lowAvailable {
		return ""
	}
	return lowLibraryVersion()
}

// IsThreadMain reports whether the calling OS thread is the one that
// initialised MPI.
func IsThreadMain() bool { return live() && lowIsThreadMain() }

// World returns MPI_COMM_WORLD; nil before Init.
func World() *Comm { return world }

// Self returns MPI_COMM_SELF; nil before Init.
func Self() *Comm { return self }
