package collective

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// Op is one collective operation in flight on this rank: a state machine
// that Progress (or Test) advances without blocking and Wait drives to the
// end. It starts communicating when it is made. Its buffers belong to it
// until it is done: the program must not read or write them before Done
// reports true (the receive buffers) or touch the send buffers before then.
// An Op is not safe for concurrent use; it makes no goroutine of its own.
type Op struct {
	x    *Context
	name string
	seq  uint64
	tag  int
	impl stepper // nil for a rank that is not a member
	done bool
	err  error
}

// Modes of stepper.step.
const (
	modeTest  = iota // advance without blocking
	modeBlock        // wait until done
	modePost         // post the first messages only, test nothing
)

// stepper is the algorithm behind an Op: step advances it as far as its
// mode allows and reports whether it is done.
type stepper interface {
	step(mode int) (bool, error)
	abort()   // after an error: cancel what can be cancelled
	recycle() // after success: give scratch buffers back
}

func (o *Op) String() string {
	return fmt.Sprintf("%s seq %d (tag %d)", o.name, o.seq, o.tag)
}

// Seq returns the operation's sequence number; Tag the MPI tag its
// messages carry.
func (o *Op) Seq() uint64 { return o.seq }

// Tag returns the MPI tag of the operation's messages (the Native algorithm
// sends none of its own).
func (o *Op) Tag() int { return o.tag }

// Member reports whether this rank takes part; a non-member's Op is done
// as soon as it is made.
func (o *Op) Member() bool { return o.impl != nil }

// Done reports whether the operation has finished on this rank (after
// Progress, Test or Wait said so).
func (o *Op) Done() bool { return o.done }

// Err returns the error that ended the operation, if any.
func (o *Op) Err() error { return o.err }

// Progress advances the operation as far as it can without blocking: it
// tests the messages of the current step and, when they are complete,
// combines what arrived and posts the next step's sends and receives. It
// reports whether the operation is done on this rank.
func (o *Op) Progress() (bool, error) {
	if o.done {
		return true, o.err
	}
	d, err := o.impl.step(modeTest)
	if err != nil || d {
		o.finish(err)
	}
	return o.done, o.err
}

// Test is Progress.
func (o *Op) Test() (bool, error) { return o.Progress() }

// Wait blocks until the operation is done on this rank: it tests the
// current step's requests (MPI_Testall), yielding the processor between
// tests (sched_yield on Linux). (It does not sit in MPI_Waitall: with Open MPI 4.1.4 a Waitall
// whose receive is truncated did not return in our tests.)
func (o *Op) Wait() error {
	if o.done {
		return o.err
	}
	_, err := o.impl.step(modeBlock)
	o.finish(err)
	return o.err
}

func (o *Op) finish(err error) {
	o.done = true
	if err == nil {
		o.impl.recycle()
	} else {
		o.impl.abort()
		var me *mpi.Error
		if errors.As(err, &me) {
			err = fmt.Errorf("collective: %v: %w", o, err)
		}
		o.err = err
	}
	o.x.release(o.tag)
}

// TestAll advances every operation once (Progress) and reports whether all
// are done. It returns the first error met; the other operations are still
// advanced.
func TestAll(ops ...*Op) (bool, error) {
	all := true
	var first error
	for _, o := range ops {
		d, err := o.Progress()
		if err != nil && first == nil {
			first = err
		}
		all = all && d
	}
	return all, first
}

// WaitAll advances the operations together until every one is done, so
// that operations whose members wait on each other in different orders all
// finish. It yields the processor between rounds and returns the first
// error met.
func WaitAll(ops ...*Op) error {
	for {
		done, err := TestAll(ops...)
		if done {
			return err
		}
		runtime.Gosched()
	}
}

// newOp registers an operation with sequence number seq (drawn by the
// caller, before any check, so that a call that fails still advances the
// count), and for a member reserves its tag. build makes the algorithm
// (called for members only).
func newOp(x *Context, name string, seq uint64, g *group, build func(o *Op) (stepper, error)) (*Op, error) {
	o := &Op{x: x, name: name, seq: seq, tag: x.tagOf(seq)}
	tag := o.tag
	if g.me < 0 {
		o.done = true
		return o, nil
	}
	if err := x.acquire(name, seq, tag); err != nil {
		return nil, err
	}
	impl, err := build(o)
	if err != nil {
		x.release(tag)
		return nil, err
	}
	o.impl = impl
	// Start: post the first step's messages at once (without testing
	// them, which the first Progress or Wait does). An error from here on
	// belongs to the operation (Progress and Wait report it).
	if d, err := impl.step(modePost); err != nil || d {
		o.finish(err)
	}
	return o, nil
}

// actKind is what one action of a schedule does.
type actKind uint8

const (
	aRecv    actKind = iota // post a receive of buf from peer
	aSend                   // post a send of buf to peer
	aWait                   // wait for requests lo..hi-1
	aCombine                // buf = buf op src
	aCopy                   // copy(buf, src)
)

type action[T any] struct {
	k      actKind
	peer   int // communicator rank
	lo, hi int32
	buf    []T
	src    []T
}

// sched is a point-to-point algorithm as a list of actions run in order; a
// wait action stops Progress until its requests have completed. Every send
// and receive of an operation carries the operation's tag: MPI keeps the
// messages between two ranks with the same tag in order, and every
// schedule posts the sends to a peer in the order the peer posts the
// matching receives.
type sched[T mpi.Elem] struct {
	o     *Op
	comm  *mpi.Comm
	acts  []action[T]
	pc    int
	reqs  []mpi.Request
	want  []int // expected element count of receive i, -1 for sends and checked ones
	peers []int
	st    []mpi.Status
	comb  combineFn[T]
	mark  int        // first request not yet covered by a wait
	temps [][]uint64 // scratch buffers from the Context, returned at the end
}

// temp returns a scratch vector of n elements (contents undefined) from the
// Context's pool; it goes back when the operation succeeds. (After an error
// it is dropped: a send may still read it.)
func (s *sched[T]) temp(n int) []T {
	var z T
	words := (n*int(unsafe.Sizeof(z)) + 7) / 8
	b := s.o.x.getScratch(words)
	s.temps = append(s.temps, b)
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func (s *sched[T]) recycle() {
	for _, b := range s.temps {
		s.o.x.putScratch(b)
	}
	s.temps = nil
}

func newSched[T mpi.Elem](o *Op) *sched[T] {
	return &sched[T]{o: o, comm: o.x.comm}
}

func (s *sched[T]) post(k actKind, peer int, buf []T) int {
	i := len(s.want)
	w := -1
	if k == aRecv {
		w = len(buf)
	}
	s.want = append(s.want, w)
	s.peers = append(s.peers, peer)
	s.acts = append(s.acts, action[T]{k: k, peer: peer, buf: buf, lo: int32(i)})
	return i
}

// recv posts a receive of len(buf) elements from communicator rank peer and
// returns its request index.
func (s *sched[T]) recv(peer int, buf []T) int { return s.post(aRecv, peer, buf) }

// send posts a send of buf to peer.
func (s *sched[T]) send(peer int, buf []T) int { return s.post(aSend, peer, buf) }

// wait waits for every request posted since the previous wait.
func (s *sched[T]) wait() {
	if s.mark < len(s.want) {
		s.acts = append(s.acts, action[T]{k: aWait, lo: int32(s.mark), hi: int32(len(s.want))})
	}
	s.mark = len(s.want)
}

// waitOne waits for request i only.
func (s *sched[T]) waitOne(i int) {
	s.acts = append(s.acts, action[T]{k: aWait, lo: int32(i), hi: int32(i + 1)})
}

// waitAll waits for every request posted so far (the end of a schedule).
func (s *sched[T]) waitAll() {
	if len(s.want) > 0 {
		s.acts = append(s.acts, action[T]{k: aWait, lo: 0, hi: int32(len(s.want))})
	}
	s.mark = len(s.want)
}

func (s *sched[T]) combine(dst, src []T) {
	s.acts = append(s.acts, action[T]{k: aCombine, buf: dst, src: src})
}

func (s *sched[T]) copy(dst, src []T) {
	s.acts = append(s.acts, action[T]{k: aCopy, buf: dst, src: src})
}

// done allocates the request arrays once the schedule is built.
func (s *sched[T]) done() *sched[T] {
	s.reqs = make([]mpi.Request, len(s.want))
	n := 0
	for _, a := range s.acts {
		if a.k == aWait && int(a.hi-a.lo) > n {
			n = int(a.hi - a.lo)
		}
	}
	s.st = make([]mpi.Status, n)
	return s
}

func (s *sched[T]) step(mode int) (bool, error) {
	tag := s.o.tag
	for s.pc < len(s.acts) {
		a := &s.acts[s.pc]
		switch a.k {
		case aRecv:
			r, err := mpi.Irecv(s.comm, a.buf, a.peer, tag)
			if err != nil {
				return false, err
			}
			s.reqs[a.lo] = r
		case aSend:
			r, err := mpi.Isend(s.comm, a.buf, a.peer, tag)
			if err != nil {
				return false, err
			}
			s.reqs[a.lo] = r
		case aWait:
			if mode == modePost {
				return false, nil
			}
			reqs, st := s.reqs[a.lo:a.hi], s.st[:a.hi-a.lo]
			for {
				ok, err := mpi.Testall(reqs, st)
				if err != nil {
					return false, s.statusErr(a, err)
				}
				if ok {
					break
				}
				if mode != modeBlock {
					return false, nil
				}
				osYield()
			}
			for i := range st {
				j := int(a.lo) + i
				if w := s.want[j]; w >= 0 {
					if st[i].Count != w {
						return false, fmt.Errorf("%w: %v: rank %d received %d elements from rank %d, expected %d (buffer lengths differ across members?)",
							ErrLength, s.o, s.comm.Rank(), st[i].Count, s.peers[j], w)
					}
					s.want[j] = -1
				}
			}
		case aCombine:
			s.comb(a.buf, a.src)
		case aCopy:
			copy(a.buf, a.src)
		}
		s.pc++
	}
	return true, nil
}

// statusErr turns an MPI_ERR_IN_STATUS error of wait action a into the
// first failing request's own error, naming its peer.
func (s *sched[T]) statusErr(a *action[T], err error) error {
	for i, st := range s.st[:a.hi-a.lo] {
		if st.Err != nil {
			j := int(a.lo) + i
			what := "sending to"
			if s.want[j] >= 0 {
				what = fmt.Sprintf("receiving %d elements from", s.want[j])
			}
			return fmt.Errorf("rank %d %s rank %d: %w", s.comm.Rank(), what, s.peers[j], st.Err)
		}
	}
	return err
}

// abort cancels the receives still pending after an error, so that no
// buffer stays pinned by them; pending sends are left to complete.
func (s *sched[T]) abort() {
	for i := range s.reqs {
		if s.reqs[i].IsNull() || s.want[i] < 0 {
			continue
		}
		// Never block here: a request that MPI already ended in error
		// may never complete again.
		if s.reqs[i].Cancel() == nil {
			s.reqs[i].Test()
		}
	}
}

// nativeOp is the Native algorithm: one request of the MPI library.
type nativeOp struct{ req mpi.Request }

func (n *nativeOp) step(mode int) (bool, error) {
	if mode == modePost {
		return false, nil
	}
	if mode == modeBlock {
		_, err := n.req.Wait()
		return err == nil, err
	}
	ok, _, err := n.req.Test()
	return ok, err
}

func (n *nativeOp) abort()   {}
func (n *nativeOp) recycle() {}

// blockOff is the offset of block b of n elements cut into p blocks whose
// sizes differ by at most one.
func blockOff(n, p, b int) int { return b * n / p }
