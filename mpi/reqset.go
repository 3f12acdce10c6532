package mpi

import (
	"sync/atomic"
	"time"
	"unsafe"
)

// RequestSet holds requests that a polling loop tests over and over (a
// runtime's progress goroutine): it keeps their MPI handles in the very
// array it hands MPI, where Testsome on a []Request first copies and
// checks every handle, on every call. That copy is most of the Go cost of
// a poll over a few dozen requests.
//
// The set owns the requests added to it: after Add, neither the Request
// nor a copy may be used. A request that completes becomes null in place
// and stays in the set, keeping its index, until Delete. Persistent
// requests are not accepted. The zero RequestSet is empty and ready to use;
// a RequestSet is not safe for concurrent use.
type RequestSet struct {
	reqs []Request
	sc   scratch // sc.h[i] and sc.k[i] go with reqs[i]
}

// Len returns the number of requests in the set, completed ones included.
func (s *RequestSet) Len() int { return len(s.reqs) }

// Null reports whether the request at index i has completed.
func (s *RequestSet) Null(i int) bool { return s.reqs[i].IsNull() }

// Add moves r into the set, at index Len()-1. r must be an active
// nonpersistent request.
func (s *RequestSet) Add(r Request) error {
	const call = "RequestSet.Add"
	null, err := r.valid(call)
	switch {
	case err != nil:
		return err
	case null:
		return argErr(clsRequest, call, "null request")
	case r.persistent:
		return argErr(clsRequest, call, "persistent request")
	}
	s.reqs = append(s.reqs, r)
	s.sc.h = append(s.sc.h, r.h)
	s.sc.k = append(s.sc.k, r.k)
	return nil
}

// Delete removes the completed request at index i: the last request moves
// to index i, and the set shrinks by one. Deleting an active request
// panics (its buffers would stay pinned with nothing to complete it).
func (s *RequestSet) Delete(i int) {
	if !s.reqs[i].IsNull() {
		panic("mpi: RequestSet.Delete of an active request")
	}
	last := len(s.reqs) - 1
	s.reqs[i], s.sc.h[i], s.sc.k[i] = s.reqs[last], s.sc.h[last], s.sc.k[last]
	s.reqs[last] = Request{}
	s.reqs, s.sc.h, s.sc.k = s.reqs[:last], s.sc.h[:last], s.sc.k[:last]
}

// TestsomeFor is TestsomeFor over the set's active requests: it stores the
// indices of those that completed in indices (and their statuses, if
// statuses is not nil, in the same order) and returns how many; both need
// room for Len() entries. It returns Undefined if no request is active.
// Completed requests stay in the set, null, until Delete.
func (s *RequestSet) TestsomeFor(indices []int, statuses []Status, d time.Duration, stop *atomic.Uint32) (int, error) {
	const call = "MPI_Testsome"
	n := len(s.reqs)
	if len(indices) < n {
		return 0, argErr(clsArg, call, "len(indices) = %d < the set's %d requests", len(indices), n)
	}
	if err := checkStatuses(call, n, statuses); err != nil {
		return 0, err
	}
	if !live() {
		return 0, stateErr(call)
	}
	if cap(s.sc.idx) < n {
		s.sc.idx = make([]int32, n, cap(s.sc.h))
		s.sc.st = make([]rawStatus, n, cap(s.sc.h))
	}
	s.sc.idx, s.sc.st = s.sc.idx[:n], s.sc.st[:n]
	var p *uint32
	if stop != nil {
		p = (*uint32)(unsafe.Pointer(stop)) // the C side reads it with an atomic load
	}
	k, rc := lowSome(true, &s.sc, statuses != nil, int64(d), p)
	if k == Undefined {
		if rc != 0 {
			return 0, codeErr(rc, call)
		}
		return Undefined, nil
	}
	for i := 0; i < k; i++ {
		indices[i] = int(s.sc.idx[i])
	}
	finishSome(s.reqs, &s.sc, k)
	if statuses != nil {
		fillStatuses(statuses[:k], s.sc.st, rc, call)
	}
	if rc != 0 {
		return k, codeErr(rc, call)
	}
	return k, nil
}
