// Package rma is MPI one-sided communication (remote memory access) over
// the mpi binding: windows of typed memory that other ranks read and write
// with Put, Get and atomic operations, and every MPI synchronisation mode.
//
// # Windows
//
// A Window[T] exposes memory holding elements of type T on every rank of a
// communicator. Its element type is part of its Go type, so an operation
// with a buffer of another type does not compile. Displacements count
// elements of T from the start of the target's window.
//
//   - Allocate: MPI allocates the memory (MPI_Win_allocate) and Local
//     returns it as a []T. This is the default choice: MPI can use its
//     fastest paths on its own memory (with Open MPI, a small put or get on
//     such a window costs about a twentieth of one on a Create window).
//   - Create: a window over a Go slice (MPI_Win_create), pinned until Free.
//   - AllocateShared: memory shared by the ranks of one node
//     (MPI_Win_allocate_shared); SharedQuery returns any rank's segment for
//     direct loads and stores.
//   - CreateDynamic: a window without memory; Attach and Detach expose Go
//     slices, and the displacement of an operation is the address that
//     Attach returned on the target (At converts an element index).
//
// # Epochs
//
// Operations are legal only inside an access epoch, and the package tracks
// each window's epoch on the Go side: an operation outside one, or to a rank
// the epoch does not cover, returns an error of class mpi.ErrRMASync naming
// the window, the rank and what is missing, without calling MPI. The modes:
//
//   - Fence (active target, collective): Fence; operations to any rank;
//     Fence. Fence(NoSucceed) ends fence synchronisation.
//   - Post/Start/Complete/Wait (active target, generalised): a target
//     exposes its window to a list of origin ranks with Post and ends with
//     Wait (or Test); an origin opens access to a list of target ranks with
//     Start and ends with Complete. Ranks are ranks of the window's
//     communicator.
//   - Passive target: Lock(rank, exclusive) and Unlock(rank) (several ranks
//     may be locked at once), or LockAll and UnlockAll; Flush, FlushLocal,
//     FlushAll and FlushLocalAll complete operations inside the epoch.
//     Request-based operations (Rput, Rget, Raccumulate, RgetAccumulate) are
//     allowed only in passive-target epochs.
//
// Modes do not mix: Lock, LockAll, Start and Post are refused after a fence
// epoch in which operations were issued, until Fence(NoSucceed) ends it (a
// fence followed by no operation opens nothing, as in MPI). Sync
// (MPI_Win_sync) is a memory barrier between direct loads and stores and
// the window, typically on a shared-memory window inside LockAll.
//
// Ranges are checked as well: the creation of Allocate, Create and
// AllocateShared windows gathers every rank's size, so a displacement and
// count that overrun the target's window is an mpi.ErrRMARange error and a
// negative displacement an mpi.ErrDisp error, both found in Go. Every call
// on a freed window is an mpi.ErrWin error. Errors MPI reports are
// *mpi.Error values too; every window has MPI_ERRORS_RETURN.
//
// # Collective and local calls
//
// Collective over the window's communicator, in the same order on every
// rank: Allocate, AllocateShared, Create, CreateDynamic, Fence and Free.
// Everything else is local: the operations, Post, Start, Complete, Wait,
// Test, Lock, Unlock, LockAll (which is not collective, despite its name),
// UnlockAll, the flushes, Sync, Attach, Detach and SharedQuery. Start,
// Complete, Wait and Lock may block until other ranks make matching calls.
//
// The checks of a collective call (Fence or Free while a lock is held, for
// example) are made in Go before MPI is called. If they fail on some ranks
// only, the others are left inside the collective call: the program is
// wrong and should abort the job rather than go on.
//
// # Buffers and pinning
//
// Buffers handed to nonblocking or one-sided calls stay pinned by the
// request or window that owns them. For Put, Get, Accumulate,
// GetAccumulate, FetchAndOp and CompareAndSwap the window pins the origin
// and result buffers (runtime.Pinner) from the call until the
// synchronisation that completes the operation at the origin: Fence,
// Complete, Unlock of the last locked rank, UnlockAll, FlushAll,
// FlushLocalAll, or Flush/FlushLocal when a single rank is locked. Until
// then the program must not modify an origin buffer nor read a result
// buffer. A completing flush keeps up to eight buffers pinned, so that a
// loop of puts and flushes from the same buffer does not pin and unpin it
// each time; the end of the epoch (or Free) unpins them. FetchAndOp and CompareAndSwap copy their value operands, so only
// the result is the program's to keep. The request-based operations pin
// their buffers in the returned Request until Wait or Test completes it.
// Create's buffer and attached buffers are pinned until Free (or Detach).
// The memory of Allocate and AllocateShared windows belongs to MPI: Local's
// slice is invalid after Free.
//
// Loads and stores to the own window (Local, SharedQuery) are ordered with
// other ranks' operations only by synchronisation: between two fences, in a
// Post/Wait exposure epoch after Wait, or under a lock of the own rank.
//
// # Threads
//
// The package needs no thread level beyond what the program's own use of
// MPI needs: with MPI_THREAD_FUNNELED or SERIALIZED, make all calls from
// one goroutine at a time (FUNNELED: the main one). A Window and a Request
// are not safe for concurrent use; guard them if several goroutines share
// them, which needs MPI_THREAD_MULTIPLE (mpi.Init's default).
//
// # Known library problems
//
// Open MPI 4.1.4's default one-sided component (osc/rdma) crashes in
// MPI_Compare_and_swap, and in a one-process job Open MPI cannot create
// Create or CreateDynamic windows (MPI_ERR_WIN; Allocate works). MPICH
// 4.0.2 returns a wrong base address for allocated windows whose size is
// not a multiple of 16 bytes; Allocate pads sizes to avoid it. The tests
// skip what the library cannot do, with the reason.
package rma
