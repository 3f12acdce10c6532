package rma

import (
	"runtime"
	"sync"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// Request is a request-based one-sided operation in flight (Rput, Rget,
// Raccumulate, RgetAccumulate). Complete it with Wait or Test.
//
// Pinning: the origin and result buffers of the operation stay pinned
// (runtime.Pinner) from the call that started it until Wait or Test
// completes it; the program must not touch them before then. A request
// dropped without completing keeps its buffers pinned until the process
// ends, and is counted by PendingRequests.
//
// A Request is not safe for concurrent use.
type Request struct {
	h    uintptr
	call string
	pin  runtime.Pinner
	done bool
}

// pendingReqs keeps every incomplete request reachable, so a dropped one
// keeps its pins instead of tripping the runtime's check for leaked pins.
var pendingReqs = struct {
	sync.Mutex
	m map[*Request]struct{}
}{m: map[*Request]struct{}{}}

func newRequest(call string, p0, p1 unsafe.Pointer) *Request {
	r := &Request{call: call, h: reqNull}
	if p0 != nil {
		r.pin.Pin(p0)
	}
	if p1 != nil {
		r.pin.Pin(p1)
	}
	pendingReqs.Lock()
	pendingReqs.m[r] = struct{}{}
	pendingReqs.Unlock()
	return r
}

func (r *Request) release() {
	r.pin.Unpin()
	r.done = true
	r.h = reqNull
	pendingReqs.Lock()
	delete(pendingReqs.m, r)
	pendingReqs.Unlock()
}

// PendingRequests returns the number of requests of this package started
// and not yet completed in this process.
func PendingRequests() int {
	pendingReqs.Lock()
	defer pendingReqs.Unlock()
	return len(pendingReqs.m)
}

func (r *Request) valid(call string) error {
	if err := mpi.CheckLive(call); err != nil {
		return err
	}
	if r == nil {
		return rmaErr(mpi.ErrRequest, call, "nil request")
	}
	return nil
}

// Wait blocks until r completes (MPI_Wait) and releases its buffers. Waiting
// on a completed request returns nil at once.
func (r *Request) Wait() error {
	if err := r.valid("MPI_Wait"); err != nil || r.done {
		return err
	}
	_, _, rc := lowReqComplete(r.h, false)
	r.release()
	if rc != 0 {
		return mpiErr(rc, "MPI_Wait")
	}
	return nil
}

// Test reports whether r has completed (MPI_Test), releasing its buffers if
// so. A completed request tests true.
func (r *Request) Test() (bool, error) {
	if err := r.valid("MPI_Test"); err != nil {
		return false, err
	}
	if r.done {
		return true, nil
	}
	h, flag, rc := lowReqComplete(r.h, true)
	if rc != 0 {
		r.release()
		return true, mpiErr(rc, "MPI_Test")
	}
	if !flag {
		r.h = h
		return false, nil
	}
	r.release()
	return true, nil
}

// Done reports whether r has completed (local; no MPI call).
func (r *Request) Done() bool { return r.done }

// WaitAll waits for every request in reqs, returning the first error.
func WaitAll(reqs []*Request) error {
	var first error
	for _, r := range reqs {
		if err := r.Wait(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
