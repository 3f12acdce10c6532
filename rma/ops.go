package rma

import (
	"math"
	"runtime"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// checkAccess checks, before MPI sees the call, that w is live, target is a
// rank of w, this process holds an access epoch that covers target, and
// elements [disp, disp+n) lie inside target's window.
func (w *Window[T]) checkAccess(call string, target, disp, n int) error {
	if err := w.checkLive(call); err != nil {
		return err
	}
	if err := w.checkRank(call, target); err != nil {
		return err
	}
	switch w.access {
	case epochFence:
		w.fenceUsed = true
	case epochLockAll:
	case epochStart:
		if !w.group[target] {
			return rmaErr(mpi.ErrRMASync, call, "%v: rank %d is not in the group %v of the access epoch opened by Start",
				w, target, w.groupList)
		}
	case epochLock:
		if w.locks[target] == unlocked {
			return rmaErr(mpi.ErrRMASync, call, "%v: rank %d is not locked (this rank holds locks on %v; call Lock(%d, ...) first)",
				w, target, w.lockedRanks(), target)
		}
	default:
		return rmaErr(mpi.ErrRMASync, call, "%v: no access epoch to rank %d is open (call Fence, Start, Lock or LockAll first)",
			w, target)
	}
	if n > math.MaxInt32 {
		return rmaErr(mpi.ErrCount, call, "%d elements is more than one MPI call can move", n)
	}
	if disp < 0 {
		return rmaErr(mpi.ErrDisp, call, "%v: negative displacement %d", w, disp)
	}
	if w.sizes != nil && n > w.sizes[target]-disp {
		return rmaErr(mpi.ErrRMARange, call, "%v: elements [%d, %d) are outside rank %d's window of %d elements",
			w, disp, disp+n, target, w.sizes[target])
	}
	return nil
}

// checkPassive is checkAccess for the request-based operations, which MPI
// allows only in passive-target epochs (Lock or LockAll).
func (w *Window[T]) checkPassive(call string, target, disp, n int) error {
	if err := w.checkLive(call); err != nil {
		return err
	}
	if w.access != epochLock && w.access != epochLockAll {
		return rmaErr(mpi.ErrRMASync, call, "%v: request-based operations need a passive-target epoch (Lock(%d, ...) or LockAll)",
			w, target)
	}
	return w.checkAccess(call, target, disp, n)
}

// checkOp checks that op is defined on T for an accumulate (MPI_REPLACE and
// MPI_NO_OP included), before MPI sees it.
func checkOp[T mpi.Elem](call string, op mpi.Op) error { return mpi.CheckOp[T](call, op, true) }

func ptr[T any](s []T) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// Put copies origin into target's window at element disp (MPI_Put). The
// transfer completes at the synchronisation that ends the epoch (or at a
// flush); until then origin stays pinned by w and must not be modified.
func (w *Window[T]) Put(origin []T, target, disp int) error {
	const call = "MPI_Put"
	if err := w.checkAccess(call, target, disp, len(origin)); err != nil {
		return err
	}
	p := ptr(origin)
	w.pin(p)
	rc := lowPut(uintptr(p), len(origin), w.dt, target, int64(disp), w.h)
	runtime.KeepAlive(origin)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	return nil
}

// PutNotify puts origin at element disp and head at headDisp of target's
// window, completes both at target (MPI_Win_flush), then puts flag at
// flagDisp and completes it too: once target sees flag's value in its
// window (after Sync), origin and head are there. This is how a one-sided
// message is announced (dagmpi/onesided uses it), done in one crossing into
// the library instead of five. head may be empty; flag may not. It needs a
// passive-target epoch to target (Lock or LockAll). Everything is complete
// at target when it returns, so the buffers are pinned for the call only.
func (w *Window[T]) PutNotify(origin []T, disp int, head []T, headDisp int, flag []T, flagDisp int, target int) error {
	const call = "PutNotify"
	if err := w.checkLive(call); err != nil {
		return err
	}
	// The epoch first: checkAccess would count the call in a fence epoch.
	if w.access != epochLock && w.access != epochLockAll {
		return rmaErr(mpi.ErrRMASync, call, "%v: needs a passive-target epoch (Lock or LockAll) to flush", w)
	}
	if err := w.checkAccess(call, target, disp, len(origin)); err != nil {
		return err
	}
	if err := w.checkAccess(call, target, headDisp, len(head)); err != nil {
		return err
	}
	if len(flag) == 0 {
		return rmaErr(mpi.ErrCount, call, "%v: empty flag: the target would have nothing to see", w)
	}
	if err := w.checkAccess(call, target, flagDisp, len(flag)); err != nil {
		return err
	}
	// The call completes what it puts: pinned for the call only.
	po, ph, pf := ptr(origin), ptr(head), ptr(flag)
	var pin runtime.Pinner
	for _, p := range [...]unsafe.Pointer{po, ph, pf} {
		if p != nil {
			pin.Pin(p)
		}
	}
	defer pin.Unpin()
	rc, step := lowPutNotify(uintptr(po), len(origin), int64(disp), uintptr(ph), len(head), int64(headDisp),
		uintptr(pf), len(flag), int64(flagDisp), w.dt, target, w.h)
	runtime.KeepAlive(origin)
	runtime.KeepAlive(head)
	runtime.KeepAlive(flag)
	if rc != 0 {
		return mpiErr(rc, [...]string{"MPI_Put (PutNotify: data or head)", "MPI_Win_flush (PutNotify)", "MPI_Put (PutNotify: flag)", "MPI_Win_flush (PutNotify: flag)"}[step])
	}
	return nil
}

// Get copies len(result) elements of target's window from element disp
// into result (MPI_Get). result holds the data only after the
// synchronisation that ends the epoch (or a flush); it stays pinned by w
// until then.
func (w *Window[T]) Get(result []T, target, disp int) error {
	const call = "MPI_Get"
	if err := w.checkAccess(call, target, disp, len(result)); err != nil {
		return err
	}
	p := ptr(result)
	w.pin(p)
	rc := lowGet(uintptr(p), len(result), w.dt, target, int64(disp), w.h)
	runtime.KeepAlive(result)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	return nil
}

// Accumulate combines origin into target's window at element disp with op
// (MPI_Accumulate): target[disp+i] = target[disp+i] op origin[i], atomically
// per element with respect to other accumulate operations. mpi.Replace
// makes it an atomic put. Completion and pinning are as for Put.
func (w *Window[T]) Accumulate(origin []T, target, disp int, op mpi.Op) error {
	const call = "MPI_Accumulate"
	if err := checkOp[T](call, op); err != nil {
		return err
	}
	if err := w.checkAccess(call, target, disp, len(origin)); err != nil {
		return err
	}
	p := ptr(origin)
	w.pin(p)
	rc := lowAccumulate(uintptr(p), len(origin), w.dt, target, int64(disp), op.Raw(), w.h)
	runtime.KeepAlive(origin)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	return nil
}

// GetAccumulate fetches len(result) elements of target's window at element
// disp into result and combines origin into them with op, atomically
// (MPI_Get_accumulate). With mpi.NoOp it is an atomic get and origin may be
// nil; otherwise len(origin) must equal len(result). Completion and pinning
// are as for Get.
func (w *Window[T]) GetAccumulate(origin, result []T, target, disp int, op mpi.Op) error {
	const call = "MPI_Get_accumulate"
	if err := checkOp[T](call, op); err != nil {
		return err
	}
	if op != mpi.NoOp && len(origin) != len(result) {
		return rmaErr(mpi.ErrCount, call, "len(origin) = %d != len(result) = %d", len(origin), len(result))
	}
	if err := w.checkAccess(call, target, disp, len(result)); err != nil {
		return err
	}
	po, pr := ptr(origin), ptr(result)
	w.pin(po)
	w.pin(pr)
	rc := lowGetAccumulate(uintptr(po), uintptr(pr), len(result), w.dt, target, int64(disp), op.Raw(), w.h)
	runtime.KeepAlive(origin)
	runtime.KeepAlive(result)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	return nil
}

// FetchAndOp fetches element disp of target's window into *result and
// combines value into it with op, atomically (MPI_Fetch_and_op). value is
// copied, so the caller may reuse it; *result holds the old value after the
// synchronisation that completes the operation and stays pinned until then.
func (w *Window[T]) FetchAndOp(value T, result *T, target, disp int, op mpi.Op) error {
	const call = "MPI_Fetch_and_op"
	if err := checkOp[T](call, op); err != nil {
		return err
	}
	if result == nil {
		return rmaErr(mpi.ErrBuffer, call, "nil result")
	}
	if err := w.checkAccess(call, target, disp, 1); err != nil {
		return err
	}
	// MPI may read the origin until completion: give it a home that
	// outlives this call.
	o := &[1]T{value}
	w.opPin.Pin(o)
	w.npins++
	pr := unsafe.Pointer(result)
	w.pin(pr)
	rc := lowFetchAndOp(uintptr(unsafe.Pointer(o)), uintptr(pr), w.dt, target, int64(disp), op.Raw(), w.h)
	runtime.KeepAlive(result)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	return nil
}

// CompareAndSwap replaces element disp of target's window with value if it
// equals compare, and fetches its old value into *result, atomically
// (MPI_Compare_and_swap). T must be an integer, a byte or bool type (MPI
// allows no floating-point or pair types here). Completion and pinning are
// as for FetchAndOp.
func (w *Window[T]) CompareAndSwap(value, compare T, result *T, target, disp int) error {
	const call = "MPI_Compare_and_swap"
	if result == nil {
		return rmaErr(mpi.ErrBuffer, call, "nil result")
	}
	if err := w.checkAccess(call, target, disp, 1); err != nil {
		return err
	}
	o := &[2]T{value, compare}
	w.opPin.Pin(o)
	w.npins++
	pr := unsafe.Pointer(result)
	w.pin(pr)
	rc := lowCompareAndSwap(uintptr(unsafe.Pointer(&o[0])), uintptr(unsafe.Pointer(&o[1])), uintptr(pr), w.dt,
		target, int64(disp), w.h)
	runtime.KeepAlive(result)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	return nil
}

// rop is the kind of a request-based operation; the order matches rma_rop
// in shim.h.
type rop int

const (
	ropPut rop = iota
	ropGet
	ropAcc
	ropGetAcc
)

var ropCalls = [...]string{"MPI_Rput", "MPI_Rget", "MPI_Raccumulate", "MPI_Rget_accumulate"}

func (w *Window[T]) rop(kind rop, origin, result []T, n, target, disp int, op mpi.Op) (*Request, error) {
	call := ropCalls[kind]
	if kind == ropAcc || kind == ropGetAcc {
		if err := checkOp[T](call, op); err != nil {
			return nil, err
		}
	}
	if err := w.checkPassive(call, target, disp, n); err != nil {
		return nil, err
	}
	po, pr := ptr(origin), ptr(result)
	r := newRequest(call, po, pr)
	h, rc := lowRop(kind, uintptr(po), uintptr(pr), n, w.dt, target, int64(disp), op.Raw(), w.h)
	if rc != 0 {
		r.release()
		return nil, mpiErr(rc, call)
	}
	r.h = h
	return r, nil
}

// Rput is Put returning a Request (MPI_Rput), allowed only in a passive
// target epoch (Lock or LockAll). Completing the request means origin may
// be reused (local completion); the data is at the target after a Flush or
// Unlock. origin stays pinned by the request until it completes.
func (w *Window[T]) Rput(origin []T, target, disp int) (*Request, error) {
	return w.rop(ropPut, origin, nil, len(origin), target, disp, mpi.Replace)
}

// Rget is Get returning a Request (MPI_Rget), allowed only in a passive
// target epoch. result holds the data once the request completes, and stays
// pinned by the request until then.
func (w *Window[T]) Rget(result []T, target, disp int) (*Request, error) {
	return w.rop(ropGet, nil, result, len(result), target, disp, mpi.NoOp)
}

// Raccumulate is Accumulate returning a Request (MPI_Raccumulate), allowed
// only in a passive target epoch; completion as for Rput.
func (w *Window[T]) Raccumulate(origin []T, target, disp int, op mpi.Op) (*Request, error) {
	return w.rop(ropAcc, origin, nil, len(origin), target, disp, op)
}

// RgetAccumulate is GetAccumulate returning a Request
// (MPI_Rget_accumulate), allowed only in a passive target epoch; result
// holds the fetched data once the request completes.
func (w *Window[T]) RgetAccumulate(origin, result []T, target, disp int, op mpi.Op) (*Request, error) {
	if op != mpi.NoOp && len(origin) != len(result) {
		return nil, rmaErr(mpi.ErrCount, "MPI_Rget_accumulate", "len(origin) = %d != len(result) = %d", len(origin), len(result))
	}
	return w.rop(ropGetAcc, origin, result, len(result), target, disp, op)
}
