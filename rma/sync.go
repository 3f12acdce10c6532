package rma

import (
	"github.com/spmd-go/spmd/mpi"
)

// Assert is a set of assertions a program may make to a synchronisation
// call so MPI can skip work (MPI_MODE_*). The zero Assert asserts nothing,
// and is always correct.
type Assert uint

// Assertions; the order matches rma_mode in shim.h.
const (
	// NoCheck: no other process holds or will request a conflicting lock
	// (Lock, LockAll) or the matching Post has already been called (Start,
	// Post).
	NoCheck Assert = 1 << iota
	// NoStore: the local window was not updated by local stores since the
	// last synchronisation (Fence, Post).
	NoStore
	// NoPut: the local window will not be updated by Put or Accumulate
	// before the next synchronisation (Fence, Post).
	NoPut
	// NoPrecede: the fence completes no operations of this process (Fence);
	// every rank must give it.
	NoPrecede
	// NoSucceed: no operations follow this fence (Fence): it ends the fence
	// epoch, after which Lock, LockAll, Start and Post may be used. Every
	// rank must give it.
	NoSucceed
	numModes = 5
)

// c returns a as the library's MPI_MODE_* bits.
func (a Assert) c() int {
	v := 0
	for k := 0; k < numModes; k++ {
		if a&(1<<k) != 0 {
			v |= modeC[k]
		}
	}
	return v
}

func assertOf(as []Assert) Assert {
	var a Assert
	for _, e := range as {
		a |= e
	}
	return a
}

// canOpen reports whether a new access epoch (Start, Lock, LockAll) may
// begin: none is open, or the fence epoch has not been used since its
// fence, which MPI counts as no epoch.
func (w *Window[T]) canOpen(call string, what string) error {
	switch w.access {
	case epochNone:
		return nil
	case epochFence:
		if !w.fenceUsed {
			w.access = epochNone
			return nil
		}
		return rmaErr(mpi.ErrRMASync, call, "%v: operations were issued in the fence epoch; end it with Fence(NoSucceed) before %s", w, what)
	case epochStart:
		return rmaErr(mpi.ErrRMASync, call, "%v: the access epoch opened by Start(%v) is still open (call Complete before %s)", w, w.groupList, what)
	case epochLock:
		return rmaErr(mpi.ErrRMASync, call, "%v: ranks %v are locked (Unlock them before %s)", w, w.lockedRanks(), what)
	case epochLockAll:
		return rmaErr(mpi.ErrRMASync, call, "%v: the LockAll epoch is open (call UnlockAll before %s)", w, what)
	}
	return nil
}

// Fence ends the current fence epoch and starts the next (MPI_Win_fence;
// collective over the window's communicator). Every operation issued since
// the previous fence, by any rank, is complete when it returns, at the
// origin and at the target. With NoSucceed it ends fence synchronisation.
// It is an ErrRMASync error while a Start, Lock, LockAll or Post epoch is
// open; that error is found in Go, before the collective call, so a program
// that gets it on one rank only must abort rather than go on.
func (w *Window[T]) Fence(assert ...Assert) error {
	const call = "MPI_Win_fence"
	if err := w.checkLive(call); err != nil {
		return err
	}
	if w.access != epochNone && w.access != epochFence {
		return w.canOpen(call, "Fence")
	}
	if w.posted {
		return rmaErr(mpi.ErrRMASync, call, "%v: the exposure epoch opened by Post is still open (call Wait before Fence)", w)
	}
	a := assertOf(assert)
	rc := lowFence(a.c(), w.h)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	w.unpinOps()
	w.fenceUsed = false
	if a&NoSucceed != 0 {
		w.access = epochNone
	} else {
		w.access = epochFence
	}
	return nil
}

// groupOf checks a rank list for Post and Start and converts it.
func (w *Window[T]) groupOf(call string, ranks []int) ([]int32, []bool, error) {
	in := make([]bool, w.size)
	c := make([]int32, len(ranks))
	for i, r := range ranks {
		if r < 0 || r >= w.size {
			return nil, nil, rmaErr(mpi.ErrRank, call, "%v: ranks[%d] = %d out of range for %d ranks", w, i, r, w.size)
		}
		if in[r] {
			return nil, nil, rmaErr(mpi.ErrGroup, call, "%v: rank %d appears twice in %v", w, r, ranks)
		}
		in[r] = true
		c[i] = int32(r)
	}
	return c, in, nil
}

// Start opens an access epoch to the listed ranks of the window's
// communicator (MPI_Win_start; local, but it may wait until those ranks
// have called Post with a group that includes this rank). Operations to
// other ranks are ErrRMASync errors until Complete.
func (w *Window[T]) Start(ranks []int, assert ...Assert) error {
	const call = "MPI_Win_start"
	if err := w.checkLive(call); err != nil {
		return err
	}
	c, in, err := w.groupOf(call, ranks)
	if err != nil {
		return err
	}
	if err := w.canOpen(call, "Start"); err != nil {
		return err
	}
	if rc := lowPSCWOpen(true, c, assertOf(assert).c(), w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	w.access = epochStart
	w.group = in
	w.groupList = append([]int(nil), ranks...)
	return nil
}

// Complete ends the access epoch opened by Start (MPI_Win_complete): the
// operations issued in it are complete at the origin (their buffers are
// released) and will complete at the targets before their Wait returns.
func (w *Window[T]) Complete() error {
	const call = "MPI_Win_complete"
	if err := w.checkLive(call); err != nil {
		return err
	}
	if w.access != epochStart {
		return rmaErr(mpi.ErrRMASync, call, "%v: no access epoch opened by Start", w)
	}
	if rc := lowComplete(w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	w.access = epochNone
	w.group, w.groupList = nil, nil
	w.unpinOps()
	return nil
}

// Post opens an exposure epoch of this rank's window to the listed ranks
// (MPI_Win_post; local): they may access it after their Start, until this
// rank's Wait (or a Test that returns true).
func (w *Window[T]) Post(ranks []int, assert ...Assert) error {
	const call = "MPI_Win_post"
	if err := w.checkLive(call); err != nil {
		return err
	}
	c, _, err := w.groupOf(call, ranks)
	if err != nil {
		return err
	}
	if w.posted {
		return rmaErr(mpi.ErrRMASync, call, "%v: an exposure epoch opened by Post is already open (call Wait first)", w)
	}
	if w.access == epochFence && w.fenceUsed {
		return rmaErr(mpi.ErrRMASync, call, "%v: operations were issued in the fence epoch; end it with Fence(NoSucceed) before Post", w)
	}
	if rc := lowPSCWOpen(false, c, assertOf(assert).c(), w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	if w.access == epochFence {
		w.access = epochNone
	}
	w.posted = true
	return nil
}

// Wait ends the exposure epoch opened by Post (MPI_Win_wait): it returns
// once every rank of the post group has called Complete, and their
// operations on this rank's window are complete.
func (w *Window[T]) Wait() error {
	const call = "MPI_Win_wait"
	if err := w.checkLive(call); err != nil {
		return err
	}
	if !w.posted {
		return rmaErr(mpi.ErrRMASync, call, "%v: no exposure epoch opened by Post", w)
	}
	if rc := lowWait(w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	w.posted = false
	return nil
}

// Test is the nonblocking Wait (MPI_Win_test): it reports whether the
// exposure epoch has ended, and if so ends it as Wait does.
func (w *Window[T]) Test() (bool, error) {
	const call = "MPI_Win_test"
	if err := w.checkLive(call); err != nil {
		return false, err
	}
	if !w.posted {
		return false, rmaErr(mpi.ErrRMASync, call, "%v: no exposure epoch opened by Post", w)
	}
	flag, rc := lowTest(w.h)
	if rc != 0 {
		return false, mpiErr(rc, call)
	}
	if flag {
		w.posted = false
	}
	return flag, nil
}

// Lock opens a passive-target access epoch to rank (MPI_Win_lock; local).
// An exclusive lock excludes every other lock on rank; shared locks
// coexist. Several ranks may be locked at once, each with its own Lock.
func (w *Window[T]) Lock(rank int, exclusive bool, assert ...Assert) error {
	const call = "MPI_Win_lock"
	if err := w.checkLive(call); err != nil {
		return err
	}
	if err := w.checkRank(call, rank); err != nil {
		return err
	}
	if w.access == epochLock {
		if w.locks[rank] != unlocked {
			return rmaErr(mpi.ErrRMASync, call, "%v: rank %d is already locked by this rank", w, rank)
		}
	} else if err := w.canOpen(call, "Lock"); err != nil {
		return err
	}
	if rc := lowLock(exclusive, rank, assertOf(assert).c(), w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	if w.locks == nil {
		w.locks = make([]lockState, w.size)
	}
	w.locks[rank] = lockShared
	if exclusive {
		w.locks[rank] = lockExclusive
	}
	w.nlocks++
	w.access = epochLock
	return nil
}

// Unlock ends the epoch opened by Lock(rank) (MPI_Win_unlock): every
// operation to rank issued in it is complete at the origin and at rank.
func (w *Window[T]) Unlock(rank int) error {
	const call = "MPI_Win_unlock"
	if err := w.checkLive(call); err != nil {
		return err
	}
	if err := w.checkRank(call, rank); err != nil {
		return err
	}
	if w.access != epochLock || w.locks[rank] == unlocked {
		return rmaErr(mpi.ErrRMASync, call, "%v: rank %d is not locked by this rank", w, rank)
	}
	if rc := lowUnlock(rank, w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	w.locks[rank] = unlocked
	w.nlocks--
	if w.nlocks == 0 {
		w.access = epochNone
		w.unpinOps()
	}
	return nil
}

// LockAll opens a shared passive-target access epoch to every rank
// (MPI_Win_lock_all; local, not collective).
func (w *Window[T]) LockAll(assert ...Assert) error {
	const call = "MPI_Win_lock_all"
	if err := w.checkLive(call); err != nil {
		return err
	}
	if err := w.canOpen(call, "LockAll"); err != nil {
		return err
	}
	if rc := lowLockAll(assertOf(assert).c(), w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	w.access = epochLockAll
	return nil
}

// UnlockAll ends the LockAll epoch (MPI_Win_unlock_all; local): every
// operation issued in it is complete at the origin and at the targets.
func (w *Window[T]) UnlockAll() error {
	const call = "MPI_Win_unlock_all"
	if err := w.checkLive(call); err != nil {
		return err
	}
	if w.access != epochLockAll {
		return rmaErr(mpi.ErrRMASync, call, "%v: no LockAll epoch is open", w)
	}
	if rc := lowUnlockAll(w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	w.access = epochNone
	w.unpinOps()
	return nil
}

// flushKind selects the flush; the order matches rma_flush in shim.h.
type flushKind int

const (
	flushOne flushKind = iota
	flushLocalOne
	flushAll
	flushLocalAll
	flushSync
)

var flushCalls = [...]string{"MPI_Win_flush", "MPI_Win_flush_local", "MPI_Win_flush_all", "MPI_Win_flush_local_all", "MPI_Win_sync"}

func (w *Window[T]) flush(kind flushKind, rank int) error {
	call := flushCalls[kind]
	if err := w.checkLive(call); err != nil {
		return err
	}
	if kind != flushSync {
		if w.access != epochLock && w.access != epochLockAll {
			return rmaErr(mpi.ErrRMASync, call, "%v: flushes need a passive-target epoch (Lock or LockAll)", w)
		}
		if kind == flushOne || kind == flushLocalOne {
			if err := w.checkRank(call, rank); err != nil {
				return err
			}
			if w.access == epochLock && w.locks[rank] == unlocked {
				return rmaErr(mpi.ErrRMASync, call, "%v: rank %d is not locked by this rank", w, rank)
			}
		}
	}
	if rc := lowFlush(kind, rank, w.h); rc != 0 {
		return mpiErr(rc, call)
	}
	// Every pending operation is now complete at the origin when the
	// flush covered all of them: the pins may go, but a loop that puts
	// from the same few buffers and flushes each time would pin and unpin
	// them on every iteration (about a third of a small put and flush), so
	// they stay until more than keptPins have gathered or the epoch ends.
	switch {
	case kind == flushAll || kind == flushLocalAll,
		(kind == flushOne || kind == flushLocalOne) && w.access == epochLock && w.nlocks == 1:
		if w.npins > keptPins {
			w.unpinOps()
		}
	}
	return nil
}

// keptPins is how many origin and result buffers a completing flush leaves
// pinned for the next operations (they are unpinned at the latest when the
// epoch ends or the window is freed).
const keptPins = 8

// Flush completes every operation this rank issued to rank, at the origin
// and at rank, without ending the epoch (MPI_Win_flush; local). Needs a
// passive-target epoch covering rank.
func (w *Window[T]) Flush(rank int) error { return w.flush(flushOne, rank) }

// FlushLocal completes every operation this rank issued to rank at the
// origin: origin buffers may be reused and Get results are in place
// (MPI_Win_flush_local; local).
func (w *Window[T]) FlushLocal(rank int) error { return w.flush(flushLocalOne, rank) }

// FlushAll is Flush to every rank (MPI_Win_flush_all; local).
func (w *Window[T]) FlushAll() error { return w.flush(flushAll, 0) }

// FlushLocalAll is FlushLocal to every rank (MPI_Win_flush_local_all;
// local).
func (w *Window[T]) FlushLocalAll() error { return w.flush(flushLocalAll, 0) }

// Sync synchronises the public and private copies of this rank's window
// (MPI_Win_sync; local): a memory barrier for direct loads and stores, for
// example on a shared-memory window between a store and a message that
// tells another rank to load.
func (w *Window[T]) Sync() error { return w.flush(flushSync, 0) }
