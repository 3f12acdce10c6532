package dagmpi

import "runtime"

var gosched = runtime.Gosched

type opKind uint8

const (
	opTask opKind = iota
	opSend
	opRecv
)

func (k opKind) String() string {
	switch k {
	case opTask:
		return "task"
	case opSend:
		return "send"
	}
	return "recv"
}

// access is one declared access of a task, resolved to a local replica.
type access struct {
	h    *handle
	mode Mode
	rep  *replica
	ridx int // position in rep.readers, or -1
}

// op is a local operation: a task this rank runs, or one side of a
// transfer. Its fields are guarded by Runtime.mu once it is published,
// except those the running worker or the progress goroutine owns while the
// op is theirs (body, acc, rep, buf).
type op struct {
	// The fields are ordered by use: the first cache line is what every
	// completion touches (a transfer's whole state), the second what a
	// task adds, with the pending-list links; the access array, which
	// only a task's own run reads, comes last. Operations are submitted
	// long before they run, so on the path of a remote dependency each
	// line is a miss.
	kind   opKind
	posted bool  // handed to the Transport
	fwd    bool  // a send forwarding a received copy along a broadcast tree
	npred  int32 // predecessors not yet finished (+1 while being built)
	succ   []*op
	rep    *replica // transfer
	pseq   uint64   // sequence number of the transfer between this pair
	peer   int
	seq    uint64 // submission index of the task (or of the task a transfer feeds)

	prev, next *op // list of pending operations
	running    int // worker+1 while the body runs
	ridx       int // position in rep.readers, or -1
	body       func(*Task) error
	acc        []access

	prio int
	dev  *devTask // device task (OnDevice), or nil
	name string
	accs [4]access
}

func (rt *Runtime) newOpLocked(k opKind) *op {
	var o *op
	if n := len(rt.free); n > 0 {
		o = rt.free[n-1]
		rt.free = rt.free[:n-1]
	} else {
		o = new(op)
	}
	o.kind = k
	o.ridx = -1
	o.npred = 1
	o.next = rt.pendHead.next
	o.prev = &rt.pendHead
	rt.pendHead.next.prev = o
	rt.pendHead.next = o
	rt.pending++
	return o
}

func (rt *Runtime) freeOpLocked(o *op) {
	if len(rt.free) >= 4096 {
		// Nothing refers to o any more: the collector takes it as it is.
		// Clearing it would write its cold cache lines for nothing.
		return
	}
	*o = op{succ: o.succ[:0]}
	rt.free = append(rt.free, o)
}

// edgeLocked makes s wait for p.
func edgeLocked(p, s *op) {
	if p.dev != nil && s.dev != nil && p.dev.pool == s.dev.pool {
		devEdgeLocked(p, s) // device to device: an event wait (device.go)
		return
	}
	p.succ = append(p.succ, s)
	s.npred++
}

// replica is this rank's copy of some version of a handle, with the
// sequential-consistency bookkeeping of the operations that use it. All
// fields are guarded by Runtime.mu, except buf, which belongs to whichever
// operation currently has the right to touch it.
type replica struct {
	h        *handle
	buf      []byte
	lastW    *op   // unfinished op that writes buf last, or nil
	readers  []*op // unfinished ops reading buf since lastW
	refs     int   // unfinished ops using the replica
	attached bool  // the handle's current replica (holds the latest version)
	loan     bool  // buf is lent by the Transport (Lender): give it back in drop (set by the progress goroutine before the receive completes)

	// dmem holds a device handle's data; buf is then a placeholder
	// (device.go).
	dmem DeviceMem
}

// trackLocked orders o after the earlier users of r that conflict with
// mode: reads wait for the last writer (RAW), writes wait for the readers
// since that writer (WAR) or for the writer itself (WAW).
func (rt *Runtime) trackLocked(r *replica, o *op, mode Mode) {
	r.refs++
	if mode&Write != 0 {
		if len(r.readers) > 0 {
			for _, p := range r.readers {
				edgeLocked(p, o)
				*p.readerPos(r) = -1
			}
			clear(r.readers)
			r.readers = r.readers[:0]
		} else if r.lastW != nil {
			edgeLocked(r.lastW, o)
		}
		r.lastW = o
		return
	}
	if r.lastW != nil {
		edgeLocked(r.lastW, o)
	}
	*o.readerPos(r) = len(r.readers)
	r.readers = append(r.readers, o)
}

// readerPos returns where o keeps its position in r.readers.
func (o *op) readerPos(r *replica) *int {
	if o.kind != opTask {
		return &o.ridx
	}
	for i := range o.acc {
		if o.acc[i].rep == r {
			return &o.acc[i].ridx
		}
	}
	panic("dagmpi: internal error: reader without an access to its replica")
}

func (rt *Runtime) untrackLocked(r *replica, o *op) {
	if r == nil {
		return
	}
	if r.lastW == o {
		r.lastW = nil
	} else if pos := o.readerPos(r); *pos >= 0 {
		// Swap-remove in O(1); the moved reader learns its new place.
		i, last := *pos, len(r.readers)-1
		if m := r.readers[last]; i != last {
			r.readers[i] = m
			*m.readerPos(r) = i
		}
		r.readers[last] = nil
		r.readers = r.readers[:last]
		*pos = -1
	}
	r.refs--
	switch {
	case r.refs > 0:
	case !r.attached:
		r.drop()
	case r.loan:
		r.unlend()
	}
}

// unlend moves an idle replica that still holds the latest version out of
// the memory its Transport lent into a buffer of the Runtime's, and gives
// the loan back: a Transport lends only a few slots per sender, and a
// version that is never written again would otherwise hold one for the
// Runtime's life. Called with rt.mu held and r.refs == 0.
func (r *replica) unlend() {
	b := r.h.alloc()
	copy(b, r.buf)
	r.giveBack()
	r.buf = b
}

// giveBack returns the buffer the Transport lent r (r.buf, which the
// caller then replaces). Called with rt.mu held.
func (r *replica) giveBack() {
	rt := r.h.rt
	delete(rt.loans, r)
	r.loan = false
	rt.lender.Return(r.buf)
}

// busyLocked reports whether r has unfinished users.
func (r *replica) busyLocked() bool { return r.refs > 0 }

// readyHeap orders ready tasks by priority (higher first), then by
// submission (earlier first). Tasks often become ready in that very order
// (independent tasks as they are submitted, a priority level released in
// submission order): those go to run, a sorted FIFO, in O(1) and in memory
// order; a task that would sort before run's tail goes to the binary heap
// a. pop takes the smaller head of the two, so the order is exactly the
// heap's. (With a million ready tasks in a heap alone, the cache misses of
// its comparisons were half the cost of an empty task.)
type readyHeap struct {
	a    []*op
	run  []*op // sorted by less; run[head:] are queued
	head int
}

func (h *readyHeap) len() int { return len(h.a) + len(h.run) - h.head }

func less(x, y *op) bool {
	if x.prio != y.prio {
		return x.prio > y.prio
	}
	return x.seq < y.seq
}

func (h *readyHeap) push(o *op) {
	// pop empties run (head 0) when it takes its last task.
	if h.head == len(h.run) || !less(o, h.run[len(h.run)-1]) {
		h.run = append(h.run, o)
		return
	}
	h.a = append(h.a, o)
	i := len(h.a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(h.a[i], h.a[p]) {
			break
		}
		h.a[i], h.a[p] = h.a[p], h.a[i]
		i = p
	}
}

func (h *readyHeap) pop() *op {
	if h.head < len(h.run) && (len(h.a) == 0 || less(h.run[h.head], h.a[0])) {
		o := h.run[h.head]
		h.run[h.head] = nil
		h.head++
		switch {
		case h.head == len(h.run):
			h.run, h.head = h.run[:0], 0
		case h.head >= 1024 && h.head*2 >= len(h.run):
			// Slide the queued half down so the slice does not grow
			// without bound while it never empties.
			n := copy(h.run, h.run[h.head:])
			clear(h.run[n:])
			h.run, h.head = h.run[:n], 0
		}
		return o
	}
	return h.popHeap()
}

func (h *readyHeap) popHeap() *op {
	a := h.a
	top := a[0]
	n := len(a) - 1
	a[0] = a[n]
	a[n] = nil
	a = a[:n]
	h.a = a
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && less(a[r], a[l]) {
			m = r
		}
		if !less(a[m], a[i]) {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	return top
}
