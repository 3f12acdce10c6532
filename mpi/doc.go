// Package mpi is a cgo binding to the system MPI library: Open MPI by default
// (pkg-config ompi-c), MPICH with -tags mpich (pkg-config mpich). To point
// the build at another installation, set PKG_CONFIG_PATH, or CGO_CFLAGS and
// CGO_LDFLAGS from `mpicc -showme:compile` and `mpicc -showme:link`.
//
// # Lifecycle and threads
//
// Init (or InitThread) starts MPI and must be called from the main goroutine,
// which this package locks to the main OS thread in its init function, so
// programs that call MPI only from main work at every thread level. Init asks
// for MPI_THREAD_MULTIPLE; Provided reports what the library gave. Finalize
// ends MPI; calls before Init return ErrNotInitialized and calls after
// Finalize return ErrFinalized, instead of crashing inside the library. Open
// MPI's own signal handlers are disabled (OMPI_MCA_opal_signal) so a Go panic
// stays a Go panic.
//
// # Buffers and datatypes
//
// Messages are typed slices; the MPI datatype comes from the element type
// (see Elem), and the count is the slice's length. Counts, ranks, roots and
// tags are checked in Go before MPI sees them. Point-to-point and collective
// calls are generic functions taking the communicator first:
//
//	mpi.Send(comm, []float64{1, 2, 3}, 1, 0)
//	st, err := mpi.Recv(comm, buf, mpi.AnySource, mpi.AnyTag)
//	err = mpi.Allreduce(comm, local, global, mpi.Sum)
//
// Blocking calls hand the buffer to MPI for the duration of the call only.
// Nonblocking calls (Isend, Irecv, Ibcast, Iallreduce, ...) return a
// Request that keeps every buffer of the operation pinned (runtime.Pinner)
// until Wait, Test or one of the multiple-completion functions completes it:
// the program must not touch those buffers before then. IsendUnsafe and
// IrecvUnsafe take a raw address and a count instead of a slice, for memory
// that is not a Go slice (C memory, or device memory handed to a CUDA-aware
// MPI by package cudaaware); AllocMem gives such memory from the library
// (MPI_Alloc_mem), which requests need not pin. The hot path of
// Send, Recv, Isend and Wait makes one cgo call and no heap allocation.
//
// For polling loops (a runtime's progress goroutine): IsendTest starts a
// send and tests it in one call, so an eager message completes at once with
// nothing pinned; Testsome asks MPI twice when the first call finds nothing
// (Open MPI drives its progress engine only after scanning the requests);
// TestsomeFor keeps polling inside the library, in one cgo call, for up to a
// given time or until another goroutine sets a stop word; a RequestSet keeps
// the requests such a loop tests over and over with their handles in the
// array MPI reads, so a poll does not copy and check each handle first.
//
// # Errors
//
// Every communicator has MPI_ERRORS_RETURN, so MPI failures come back as
// *Error values carrying the MPI error class, the code, the library's message
// and the failed call; errors.Is matches them against the Err* sentinels
// (ErrTruncate, ErrRank, ErrTag, ...). Errors the binding finds itself (a
// rank out of range, a tag above TagUB, counts that overrun a buffer, a
// stale request) are *Error values of the class MPI would have used.
//
// # Collective and local calls
//
// Collectives (Barrier, Bcast, Reduce, Allreduce, Gather(v), Scatter(v),
// Allgather(v), Alltoall(v), ReduceScatterBlock, Scan, Exscan and their
// nonblocking I-forms) and communicator constructors (Dup, Split,
// SplitShared, Create, CartCreate, CartSub, Free) are collective over the
// communicator: every rank must call them in the same order. Rank, Size,
// TagUB, Coords, CartRank, Shift and Compare are local.
//
// # Without cgo
//
// With CGO_ENABLED=0 the package still builds, so pure-Go code that imports
// it builds too; Init then returns ErrNoCgo.
package mpi
