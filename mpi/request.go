package mpi

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Request is a nonblocking operation in flight (MPI_Request). It is a small
// value: keep it in a variable or a slice and complete it with Wait or Test
// (or Waitall, Waitany, Waitsome, Testall, Testany, Testsome on a slice).
//
// Pinning: the Go buffers of the operation (and, for v-collectives, the count
// and displacement arrays) stay pinned with a runtime.Pinner from the call
// that started the operation until the request completes or is freed, so MPI
// may keep their addresses. Do not touch a buffer before its request
// completes.
//
// The zero Request is the null request: waiting on it returns at once. A
// completed request becomes null. Waiting on a copy of a request that another
// copy already completed returns an ErrRequest error; so does any use of a
// freed request. A request that is dropped without completing keeps its
// buffer pinned forever and is counted by PendingRequests.
type Request struct {
	h          reqH
	slot       *reqSlot
	gen        uint32
	k          kind
	persistent bool
}

// reqSlot holds the pins of one request; slots are recycled, and gen tells a
// live request from a stale copy.
type reqSlot struct {
	pin runtime.Pinner
	gen uint32
}

// slots is the free list of request slots. Every slot ever made stays
// referenced from all, so a slot whose request was dropped unfinished (or
// freed while active) stays pinned and reachable rather than tripping the
// runtime's check for leaked Pinners; PendingRequests counts such requests,
// and Finalize unpins everything once MPI can no longer touch the buffers.
var slots struct {
	sync.Mutex
	free []*reqSlot
	all  []*reqSlot
}

var pending atomic.Int64

func getSlot() *reqSlot {
	slots.Lock()
	var s *reqSlot
	if n := len(slots.free); n > 0 {
		s = slots.free[n-1]
		slots.free = slots.free[:n-1]
	} else {
		s = new(reqSlot)
		slots.all = append(slots.all, s)
	}
	slots.Unlock()
	return s
}

func putSlot(s *reqSlot) {
	slots.Lock()
	slots.free = append(slots.free, s)
	slots.Unlock()
}

// unpinAll releases every pin; called after MPI_Finalize.
func unpinAll() {
	slots.Lock()
	for _, s := range slots.all {
		s.gen++
		s.pin.Unpin()
	}
	slots.free = append(slots.free[:0], slots.all...)
	slots.Unlock()
}

// PendingRequests returns the number of requests started and not yet
// completed or freed in this process. Tests use it to find requests that
// were dropped unfinished.
func PendingRequests() int { return int(pending.Load()) }

// newRequest wraps handle h of an operation on buffers p (nil entries are
// skipped) with element kind k.
func newRequest(h reqH, k kind, persistent bool, p0, p1 unsafe.Pointer, extra ...unsafe.Pointer) Request {
	s := getSlot()
	if p0 != nil {
		s.pin.Pin(p0)
	}
	if p1 != nil {
		s.pin.Pin(p1)
	}
	for _, p := range extra {
		if p != nil {
			s.pin.Pin(p)
		}
	}
	pending.Add(1)
	return Request{h: h, slot: s, gen: s.gen, k: k, persistent: persistent}
}

// release unpins r's buffers and makes r (and every copy of it) stale.
func (r *Request) release() {
	s := r.slot
	s.gen++
	s.pin.Unpin()
	putSlot(s)
	r.slot = nil
	r.h = reqNull
	pending.Add(-1)
}

// valid checks r for use by call; a null request is valid and reports
// null == true.
func (r *Request) valid(call string) (null bool, err error) {
	if !live() {
		return false, stateErr(call)
	}
	if r.slot == nil {
		return true, nil
	}
	if r.gen != r.slot.gen {
		return false, argErr(clsRequest, call, "request was already completed or freed (stale copy)")
	}
	return false, nil
}

// IsNull reports whether r is the null request (completed or never started).
func (r *Request) IsNull() bool { return r.slot == nil || r.gen != r.slot.gen }

// complete records that MPI completed r, whose handle is now h.
func (r *Request) complete(h reqH) {
	if r.persistent {
		r.h = h
		return
	}
	r.release()
}

// Wait blocks until r completes and returns its status (MPI_Wait).
// Persistent requests become inactive and may be started again.
func (r *Request) Wait() (Status, error) {
	null, err := r.valid("MPI_Wait")
	if null || err != nil {
		return emptyStatus(), err
	}
	h, st := lowWait(r.h, r.k)
	r.complete(h)
	return st.status("MPI_Wait")
}

// Test reports whether r has completed, with its status if so (MPI_Test).
func (r *Request) Test() (bool, Status, error) {
	null, err := r.valid("MPI_Test")
	if null || err != nil {
		return err == nil, emptyStatus(), err
	}
	h, flag, st := lowTest(r.h, r.k)
	if !flag {
		if st.rc != 0 {
			return false, Status{}, codeErr(int(st.rc), "MPI_Test")
		}
		return false, Status{}, nil
	}
	r.complete(h)
	s, err := st.status("MPI_Test")
	return true, s, err
}

// Cancel marks r for cancellation (MPI_Cancel). r must still be completed by
// Wait or Test; Status.Cancelled tells whether the cancel succeeded.
func (r *Request) Cancel() error {
	null, err := r.valid("MPI_Cancel")
	if err != nil {
		return err
	}
	if null {
		return argErr(clsRequest, "MPI_Cancel", "cannot cancel a null request")
	}
	if rc := lowCancel(r.h); rc != 0 {
		return codeErr(rc, "MPI_Cancel")
	}
	return nil
}

// Free releases r (MPI_Request_free). For an active nonpersistent request the
// operation still completes, but the program can no longer tell when; its
// buffers stay pinned, as MPI may still use them, until the process ends.
// Prefer Wait. Freeing a null or already freed request is an ErrRequest
// error.
func (r *Request) Free() error {
	null, err := r.valid("MPI_Request_free")
	if err != nil {
		return err
	}
	if null {
		return argErr(clsRequest, "MPI_Request_free", "request is null (already completed or freed)")
	}
	rc := lowRequestFree(r.h)
	if !r.persistent {
		// MPI may still be reading or writing the buffer: leak the pins
		// rather than risk the buffer moving under it.
		r.slot.gen++
		r.slot = nil
		r.h = reqNull
		pending.Add(-1)
	} else {
		r.persistent = false
		r.release()
	}
	if rc != 0 {
		return codeErr(rc, "MPI_Request_free")
	}
	return nil
}

// Start starts a persistent request made by SendInit or RecvInit
// (MPI_Start).
func (r *Request) Start() error {
	null, err := r.valid("MPI_Start")
	if err != nil {
		return err
	}
	if null || !r.persistent {
		return argErr(clsRequest, "MPI_Start", "request is not a persistent request")
	}
	if rc := lowStart(r.h); rc != 0 {
		return codeErr(rc, "MPI_Start")
	}
	return nil
}

// Startall starts several persistent requests.
func Startall(reqs []Request) error {
	for i := range reqs {
		if err := reqs[i].Start(); err != nil {
			return err
		}
	}
	return nil
}

// rawStatus mirrors spmd_status in shim.h, field for field.
type rawStatus struct {
	rc, source, tag, err, count, cancelled int32
}

func emptyStatus() Status { return Status{Source: AnySource, Tag: AnyTag} }

func (s *rawStatus) status(call string) (Status, error) {
	st := Status{Source: int(s.source), Tag: int(s.tag), Count: int(s.count), Cancelled: s.cancelled != 0}
	if s.rc != 0 {
		return st, codeErr(int(s.rc), call)
	}
	return st, nil
}

// scratch holds the arrays handed to C by the multiple-completion calls;
// pooled so those calls do not allocate.
type scratch struct {
	h   []reqH
	k   []kind
	st  []rawStatus
	idx []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func getScratch(reqs []Request, call string) (*scratch, error) {
	s := scratchPool.Get().(*scratch)
	n := len(reqs)
	if cap(s.h) < n {
		s.h = make([]reqH, n)
		s.k = make([]kind, n)
		s.st = make([]rawStatus, n)
		s.idx = make([]int32, n)
	}
	s.h, s.k, s.st, s.idx = s.h[:n], s.k[:n], s.st[:n], s.idx[:n]
	if !live() {
		scratchPool.Put(s)
		return nil, stateErr(call)
	}
	// The progress loops of the runtime call this on every poll: keep the
	// per-request work to a compare and two stores.
	for i := range reqs {
		r := &reqs[i]
		h := reqNull
		if sl := r.slot; sl != nil {
			if r.gen != sl.gen {
				scratchPool.Put(s)
				return nil, argErr(clsRequest, call, "request %d was already completed or freed (stale copy)", i)
			}
			h = r.h
		}
		s.h[i] = h
		s.k[i] = r.k
	}
	return s, nil
}

// finishSome records the completions of the requests whose indices MPI
// returned in s.idx[:n] (Waitany, Testany, Waitsome, Testsome).
func finishSome(reqs []Request, s *scratch, n int) {
	for _, j := range s.idx[:n] {
		r := &reqs[j]
		if r.slot == nil {
			continue
		}
		if r.persistent {
			r.h = s.h[j]
		} else {
			r.release()
		}
	}
}

// finish records completions after a multiple-completion call: a
// nonpersistent request completed when MPI nulled its handle; a persistent
// one when its index is in done.
func finish(reqs []Request, s *scratch, done func(i int) bool) {
	for i := range reqs {
		r := &reqs[i]
		if r.slot == nil {
			continue
		}
		if r.persistent {
			if done(i) {
				r.h = s.h[i]
			}
			continue
		}
		if s.h[i] == reqNull {
			r.release()
		}
	}
}

func fillStatuses(out []Status, s []rawStatus, rc int, call string) {
	for i := range out {
		st, _ := s[i].status(call)
		if rc != 0 && s[i].rc != 0 && !isPendingCode(int(s[i].rc)) {
			st.Err = codeErr(int(s[i].rc), call)
		}
		out[i] = st
	}
}

func isPendingCode(code int) bool { return lowErrorClass(code) == classNums[clsPending] }

func checkStatuses(call string, n int, statuses []Status) error {
	if statuses != nil && len(statuses) < n {
		return argErr(clsArg, call, "len(statuses) = %d < len(reqs) = %d", len(statuses), n)
	}
	return nil
}

// Waitall waits for every request (MPI_Waitall) in one call to MPI. If
// statuses is not nil it receives one status per request. If some requests
// fail, the error is an ErrInStatus error and the failing statuses carry
// their own errors in Status.Err.
func Waitall(reqs []Request, statuses []Status) error {
	if err := checkStatuses("MPI_Waitall", len(reqs), statuses); err != nil {
		return err
	}
	s, err := getScratch(reqs, "MPI_Waitall")
	if err != nil {
		return err
	}
	defer scratchPool.Put(s)
	rc := lowWaitall(s, statuses != nil)
	finish(reqs, s, func(int) bool { return rc == 0 })
	if statuses != nil {
		fillStatuses(statuses[:len(reqs)], s.st, rc, "MPI_Waitall")
	}
	if rc != 0 {
		return codeErr(rc, "MPI_Waitall")
	}
	return nil
}

// Testall reports whether every request has completed (MPI_Testall); if so,
// they are all completed and their statuses stored, otherwise none is.
func Testall(reqs []Request, statuses []Status) (bool, error) {
	if err := checkStatuses("MPI_Testall", len(reqs), statuses); err != nil {
		return false, err
	}
	s, err := getScratch(reqs, "MPI_Testall")
	if err != nil {
		return false, err
	}
	defer scratchPool.Put(s)
	flag, rc := lowTestall(s, statuses != nil)
	if flag || rc != 0 {
		finish(reqs, s, func(int) bool { return flag })
		if statuses != nil {
			fillStatuses(statuses[:len(reqs)], s.st, rc, "MPI_Testall")
		}
	}
	if rc != 0 {
		return flag, codeErr(rc, "MPI_Testall")
	}
	return flag, nil
}

// Waitany waits for one of the requests to complete and returns its index
// and status (MPI_Waitany). It returns Undefined if every request is null.
func Waitany(reqs []Request) (int, Status, error) {
	s, err := getScratch(reqs, "MPI_Waitany")
	if err != nil {
		return Undefined, Status{}, err
	}
	defer scratchPool.Put(s)
	idx, rc := lowWaitany(s)
	if idx == Undefined || idx < 0 {
		if rc != 0 {
			return Undefined, Status{}, codeErr(rc, "MPI_Waitany")
		}
		return Undefined, emptyStatus(), nil
	}
	s.idx[0] = int32(idx)
	finishSome(reqs, s, 1)
	st, err := s.st[0].status("MPI_Waitany")
	return idx, st, err
}

// Testany tests the requests and completes at most one (MPI_Testany). It
// returns its index and status, and flag true; flag is also true, with index
// Undefined, if every request is null.
func Testany(reqs []Request) (int, bool, Status, error) {
	s, err := getScratch(reqs, "MPI_Testany")
	if err != nil {
		return Undefined, false, Status{}, err
	}
	defer scratchPool.Put(s)
	idx, flag, rc := lowTestany(s)
	if !flag || idx == Undefined || idx < 0 {
		if rc != 0 {
			return Undefined, flag, Status{}, codeErr(rc, "MPI_Testany")
		}
		return Undefined, flag, emptyStatus(), nil
	}
	s.idx[0] = int32(idx)
	finishSome(reqs, s, 1)
	st, err := s.st[0].status("MPI_Testany")
	return idx, true, st, err
}

// Waitsome waits until at least one request completes and completes all
// that have (MPI_Waitsome). It stores their indices in indices (and
// statuses, if not nil, in the same order) and returns how many; both must
// have room for len(reqs). It returns Undefined if every request is null.
func Waitsome(reqs []Request, indices []int, statuses []Status) (int, error) {
	return some(false, "MPI_Waitsome", reqs, indices, statuses, 0, nil)
}

// Testsome completes the requests that have completed, like Waitsome but
// without blocking; it may return 0 (MPI_Testsome). When the first
// MPI_Testsome finds nothing it asks a second time in the same cgo call, so
// that what the library's progress engine delivered during the first is
// reported now rather than at the next call (Open MPI checks the requests
// before it drives progress).
func Testsome(reqs []Request, indices []int, statuses []Status) (int, error) {
	return some(true, "MPI_Testsome", reqs, indices, statuses, 0, nil)
}

// TestsomeFor is Testsome that, while no request has completed, keeps
// calling MPI_Testsome inside the same cgo call for up to d, or until stop
// (when not nil) holds a nonzero value, which another goroutine may store
// at any time. A polling loop notices a message as soon as the library
// delivers it, as a blocking MPI_Wait would, instead of paying a Go round
// trip per poll. The calling goroutine keeps its OS thread and its P for
// the whole call, so d should stay in the microseconds; other goroutines
// that need the caller's attention set stop.
func TestsomeFor(reqs []Request, indices []int, statuses []Status, d time.Duration, stop *atomic.Uint32) (int, error) {
	var p *uint32
	if stop != nil {
		// The C side reads the word with an atomic load.
		p = (*uint32)(unsafe.Pointer(stop))
	}
	return some(true, "MPI_Testsome", reqs, indices, statuses, int64(d), p)
}

func some(test bool, call string, reqs []Request, indices []int, statuses []Status, spinNS int64, stop *uint32) (int, error) {
	if len(indices) < len(reqs) {
		return 0, argErr(clsArg, call, "len(indices) = %d < len(reqs) = %d", len(indices), len(reqs))
	}
	if err := checkStatuses(call, len(reqs), statuses); err != nil {
		return 0, err
	}
	s, err := getScratch(reqs, call)
	if err != nil {
		return 0, err
	}
	defer scratchPool.Put(s)
	n, rc := lowSome(test, s, statuses != nil, spinNS, stop)
	if n == Undefined {
		if rc != 0 {
			return 0, codeErr(rc, call)
		}
		return Undefined, nil
	}
	for i := 0; i < n; i++ {
		indices[i] = int(s.idx[i])
	}
	finishSome(reqs, s, n)
	if statuses != nil {
		fillStatuses(statuses[:n], s.st, rc, call)
	}
	if rc != 0 {
		return n, codeErr(rc, call)
	}
	return n, nil
}
