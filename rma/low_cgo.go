//go:build cgo

// The low layer: the only Go file that calls C. Each function is one cgo
// crossing and speaks only Go types (handles and addresses as uintptr), so
// low_nocgo.go, its !cgo twin, is generated from it (go generate) and must
// stay in sync with it. Without cgo mpi.Init fails, every exported call
// stops at mpi.CheckLive, and the twin's functions are never reached.

package rma

//go:generate go run ../scripts/gen-nocgo -in low_cgo.go -out low_nocgo.go

/*
#cgo !mpich pkg-config: ompi-c
#cgo mpich pkg-config: mpich
// MPICH defines MPI_STATUS_IGNORE as (MPI_Status *)1, which GCC 12 flags as
// an overflow of a zero-sized region: a false positive.
#cgo mpich CFLAGS: -Wno-stringop-overflow
// The communication shims never call back into Go and keep no Go pointer.
#cgo nocallback rma_put
#cgo nocallback rma_put_notify
#cgo nocallback rma_get
#cgo nocallback rma_accumulate
#cgo nocallback rma_get_accumulate
#cgo nocallback rma_fetch_and_op
#cgo nocallback rma_compare_and_swap
#cgo nocallback rma_rop
#cgo nocallback rma_req_complete
#cgo nocallback rma_flush
#cgo nocallback rma_lock
#cgo nocallback rma_unlock
#include "shim.h"
*/
import "C"

import "unsafe"

const lowAvailable = true

var (
	winNull uintptr
	reqNull uintptr
	modeC   [numModes]int
)

func init() {
	winNull = uintptr(C.rma_win_null())
	reqNull = uintptr(C.rma_request_null())
	for k := range modeC {
		modeC[k] = int(C.rma_mode(C.int(k)))
	}
}

func u(p uintptr) C.uintptr_t { return C.uintptr_t(p) }

// lowAllocate makes a window over MPI memory; shared selects
// MPI_Win_allocate_shared.
func lowAllocate(shared bool, bytes int64, unit int, comm uintptr) (win uintptr, base unsafe.Pointer, rc int) {
	k := C.int(0)
	if shared {
		k = 1
	}
	r := C.rma_win_allocate(k, C.int64_t(bytes), C.int(unit), u(comm))
	return uintptr(r.win), r.base, int(r.rc)
}

func lowCreate(base uintptr, bytes int64, unit int, comm uintptr) (uintptr, int) {
	r := C.rma_win_create(u(base), C.int64_t(bytes), C.int(unit), u(comm))
	return uintptr(r.win), int(r.rc)
}

func lowCreateDynamic(comm uintptr) (uintptr, int) {
	r := C.rma_win_create_dynamic(u(comm))
	return uintptr(r.win), int(r.rc)
}

func lowFree(win uintptr) int { return int(C.rma_win_free(u(win))) }

func lowSharedQuery(win uintptr, rank int) (bytes int64, unit int, base unsafe.Pointer, rc int) {
	r := C.rma_shared_query(u(win), C.int(rank))
	return int64(r.bytes), int(r.unit), r.base, int(r.rc)
}

func lowAttach(win, base uintptr, bytes int64) (int64, int) {
	r := C.rma_win_attach(u(win), u(base), C.int64_t(bytes))
	return int64(r.addr), int(r.rc)
}

func lowDetach(win, base uintptr) int { return int(C.rma_win_detach(u(win), u(base))) }

func lowPut(o uintptr, n int, dt uintptr, target int, disp int64, win uintptr) int {
	return int(C.rma_put(u(o), C.int(n), u(dt), C.int(target), C.int64_t(disp), u(win)))
}

func lowPutNotify(o uintptr, n int, disp int64, h uintptr, hn int, hdisp int64, f uintptr, fn int, fdisp int64, dt uintptr, target int, win uintptr) (rc, step int) {
	var s C.int
	rc = int(C.rma_put_notify(u(o), C.int(n), C.int64_t(disp), u(h), C.int(hn), C.int64_t(hdisp), u(f), C.int(fn), C.int64_t(fdisp), u(dt), C.int(target), u(win), &s))
	return rc, int(s)
}

func lowGet(o uintptr, n int, dt uintptr, target int, disp int64, win uintptr) int {
	return int(C.rma_get(u(o), C.int(n), u(dt), C.int(target), C.int64_t(disp), u(win)))
}

func lowAccumulate(o uintptr, n int, dt uintptr, target int, disp int64, op, win uintptr) int {
	return int(C.rma_accumulate(u(o), C.int(n), u(dt), C.int(target), C.int64_t(disp), u(op), u(win)))
}

func lowGetAccumulate(o, res uintptr, n int, dt uintptr, target int, disp int64, op, win uintptr) int {
	return int(C.rma_get_accumulate(u(o), u(res), C.int(n), u(dt), C.int(target), C.int64_t(disp), u(op), u(win)))
}

func lowFetchAndOp(o, res, dt uintptr, target int, disp int64, op, win uintptr) int {
	return int(C.rma_fetch_and_op(u(o), u(res), u(dt), C.int(target), C.int64_t(disp), u(op), u(win)))
}

func lowCompareAndSwap(o, cmp, res, dt uintptr, target int, disp int64, win uintptr) int {
	return int(C.rma_compare_and_swap(u(o), u(cmp), u(res), u(dt), C.int(target), C.int64_t(disp), u(win)))
}

// lowRop starts a request-based operation of kind rop.
func lowRop(kind rop, o, res uintptr, n int, dt uintptr, target int, disp int64, op, win uintptr) (uintptr, int) {
	r := C.rma_rop(C.int(kind), u(o), u(res), C.int(n), u(dt), C.int(target), C.int64_t(disp), u(op), u(win))
	return uintptr(r.req), int(r.rc)
}

// lowReqComplete waits for (or, with test, tests) request req.
func lowReqComplete(req uintptr, test bool) (uintptr, bool, int) {
	t := C.int(0)
	if test {
		t = 1
	}
	r := C.rma_req_complete(u(req), t)
	return uintptr(r.req), r.flag != 0, int(r.rc)
}

func lowFence(assert int, win uintptr) int { return int(C.rma_fence(C.int(assert), u(win))) }

// lowPSCWOpen posts (start false) or starts an epoch with ranks of the
// window's group.
func lowPSCWOpen(start bool, ranks []int32, assert int, win uintptr) int {
	s := C.int(0)
	if start {
		s = 1
	}
	var p *C.int
	if len(ranks) > 0 {
		p = (*C.int)(unsafe.Pointer(&ranks[0]))
	}
	return int(C.rma_pscw_open(s, C.int(len(ranks)), p, C.int(assert), u(win)))
}

func lowComplete(win uintptr) int { return int(C.rma_complete(u(win))) }
func lowWait(win uintptr) int     { return int(C.rma_wait(u(win))) }

func lowTest(win uintptr) (bool, int) {
	r := C.rma_test(u(win))
	return r.flag != 0, int(r.rc)
}

func lowLock(exclusive bool, rank, assert int, win uintptr) int {
	e := C.int(0)
	if exclusive {
		e = 1
	}
	return int(C.rma_lock(e, C.int(rank), C.int(assert), u(win)))
}

func lowUnlock(rank int, win uintptr) int    { return int(C.rma_unlock(C.int(rank), u(win))) }
func lowLockAll(assert int, win uintptr) int { return int(C.rma_lock_all(C.int(assert), u(win))) }
func lowUnlockAll(win uintptr) int           { return int(C.rma_unlock_all(u(win))) }
func lowFlush(kind flushKind, rank int, win uintptr) int {
	return int(C.rma_flush(C.int(kind), C.int(rank), u(win)))
}
