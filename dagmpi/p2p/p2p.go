// Package p2p is the dagmpi.Transport over MPI nonblocking point-to-point
// calls: Isend and Irecv on a communicator of its own, kept in an
// mpi.RequestSet and completed with its TestsomeFor. It is also a
// dagmpi.Spinner (while the runtime spins it polls inside MPI for a few
// microseconds per call) and a dagmpi.Controller (Allreduce for the
// consistency check, MPI_Abort to end the job).
//
// # Threads
//
// The Runtime calls Send, Recv, Progress and AllreduceUint64 from its one
// progress goroutine, which is not the main goroutine. MPI must therefore
// have been initialised with MPI_THREAD_SERIALIZED or MPI_THREAD_MULTIPLE
// (mpi.Init asks for MULTIPLE); with SERIALIZED the program must not make
// MPI calls from other goroutines while a Runtime over this Transport is
// running work (between its first Submit and Wait). New checks the level.
//
// # Buffers
//
// Send hands its buffer to MPI with mpi.IsendTest: a small message usually
// leaves at once and nothing stays pinned; otherwise the request keeps the
// buffer pinned until Progress completes it. A receive of up to 256 bytes
// lands in a slot of memory from MPI_Alloc_mem (which needs no pin) and is
// copied into the Runtime's buffer when it completes; a larger one goes
// straight into the buffer, pinned by its request. The Transport keeps no
// buffer of the Runtime's after reporting its completion. Close frees the
// slots.
package p2p

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/mpi"
)

// Transport is a dagmpi.Transport over MPI point-to-point messages.
type Transport struct {
	comm  *mpi.Comm
	rank  int
	size  int
	tagUB int

	// Requests in flight, compacted after each Progress; meta[i] goes with
	// the request at index i of set.
	set  mpi.RequestSet
	meta []reqMeta
	idx  []int
	st   []mpi.Status
	// Sends that MPI finished inside Send (eager messages): reported by
	// the next Progress without a request.
	early []dagmpi.Completion

	// Staging slots for small receives (see stageBytes): chunks from
	// MPI_Alloc_mem, and the free slots cut from them.
	chunks [][]byte
	slots  [][]byte

	closed bool
}

type reqMeta struct {
	id   uint64
	n    int
	send bool
	slot []byte // a staged receive's slot (stageBytes long), or nil
	dst  []byte // where a staged receive's bytes go
}

// Receives of up to stageBytes bytes land in a slot of memory from
// MPI_Alloc_mem and are copied into the Runtime's buffer when they
// complete: memory that is not Go's needs no pin, and pinning a Go buffer
// (and unpinning it at completion) costs about as much as posting the
// receive itself. Slots are allocated stageChunk at a time.
const (
	stageBytes = 256
	stageChunk = 64
)

// slot returns a free staging slot, or nil if the library has no memory
// to give (the receive then goes straight to the Go buffer).
func (t *Transport) slot() []byte {
	if len(t.slots) == 0 {
		c, err := mpi.AllocMem(stageBytes * stageChunk)
		if err != nil {
			return nil
		}
		t.chunks = append(t.chunks, c)
		for i := 0; i < stageChunk; i++ {
			t.slots = append(t.slots, c[i*stageBytes:(i+1)*stageBytes:(i+1)*stageBytes])
		}
	}
	s := t.slots[len(t.slots)-1]
	t.slots = t.slots[:len(t.slots)-1]
	return s
}

var (
	_ dagmpi.Transport  = (*Transport)(nil)
	_ dagmpi.PathNamer  = (*Transport)(nil)
	_ dagmpi.Controller = (*Transport)(nil)
	_ dagmpi.Spinner    = (*Transport)(nil)
)

// New returns a Transport on a duplicate of comm (collective over comm), so
// that the runtime's messages never match the application's. Close frees
// the duplicate.
func New(comm *mpi.Comm) (*Transport, error) {
	if comm == nil {
		return nil, errors.New("p2p: New: nil communicator")
	}
	if lvl := mpi.Provided(); lvl < mpi.ThreadSerialized {
		return nil, fmt.Errorf("p2p: New: MPI gives thread level %v; the runtime's progress goroutine needs at least MPI_THREAD_SERIALIZED", lvl)
	}
	dup, err := comm.Dup()
	if err != nil {
		return nil, fmt.Errorf("p2p: New: duplicating the communicator: %w", err)
	}
	return &Transport{comm: dup, rank: dup.Rank(), size: dup.Size(), tagUB: dup.TagUB()}, nil
}

// Comm returns the Transport's own communicator.
func (t *Transport) Comm() *mpi.Comm { return t.comm }

// Paths implements dagmpi.PathNamer: one path, "p2p".
func (t *Transport) Paths() []string { return []string{"p2p"} }

// Rank implements dagmpi.Transport.
func (t *Transport) Rank() int { return t.rank }

// Size implements dagmpi.Transport.
func (t *Transport) Size() int { return t.size }

// TagBound implements dagmpi.Transport: MPI_TAG_UB + 1.
func (t *Transport) TagBound() int { return t.tagUB + 1 }

func (t *Transport) check(call string, peer, tag int) error {
	if t.closed {
		return fmt.Errorf("p2p: %s on rank %d: transport closed", call, t.rank)
	}
	if peer < 0 || peer >= t.size {
		return fmt.Errorf("p2p: %s on rank %d: rank %d outside [0, %d)", call, t.rank, peer, t.size)
	}
	if tag < 0 || tag > t.tagUB {
		return fmt.Errorf("p2p: %s on rank %d: tag %d outside [0, %d]", call, t.rank, tag, t.tagUB)
	}
	return nil
}

// Send implements dagmpi.Transport with mpi.Isend.
func (t *Transport) Send(buf []byte, dst, tag int, id uint64) error {
	if err := t.check("Send", dst, tag); err != nil {
		return err
	}
	r, done, err := mpi.IsendTest(t.comm, buf, dst, tag)
	if err != nil {
		if !r.IsNull() {
			r.Free() // cannot be reported: the Transport is failing anyway
		}
		return err
	}
	if done {
		t.early = append(t.early, dagmpi.Completion{ID: id, Bytes: len(buf)})
		return nil
	}
	return t.add(r, reqMeta{id: id, n: len(buf), send: true})
}

// Recv implements dagmpi.Transport with mpi.Irecv.
func (t *Transport) Recv(buf []byte, src, tag int, id uint64) error {
	if err := t.check("Recv", src, tag); err != nil {
		return err
	}
	if n := len(buf); n > 0 && n <= stageBytes {
		if sl := t.slot(); sl != nil {
			r, err := mpi.IrecvUnsafe[byte](t.comm, unsafe.Pointer(&sl[0]), n, src, tag)
			if err != nil {
				t.slots = append(t.slots, sl)
				return err
			}
			return t.add(r, reqMeta{id: id, n: n, slot: sl, dst: buf})
		}
	}
	r, err := mpi.Irecv(t.comm, buf, src, tag)
	if err != nil {
		return err
	}
	return t.add(r, reqMeta{id: id, n: len(buf)})
}

// add puts r, in flight, into the set, with m.
func (t *Transport) add(r mpi.Request, m reqMeta) error {
	if err := t.set.Add(r); err != nil {
		r.Free() // cannot be tracked: the Transport is failing anyway
		return fmt.Errorf("p2p: rank %d: %w", t.rank, err)
	}
	t.meta = append(t.meta, m)
	return nil
}

// Progress implements dagmpi.Transport with one mpi.Testsome over the
// requests in flight.
func (t *Transport) Progress(out []dagmpi.Completion) ([]dagmpi.Completion, error) {
	return t.poll("Progress", out, 0, nil)
}

// Spin implements dagmpi.Spinner with mpi.RequestSet.TestsomeFor: it polls
// inside MPI for up to d while nothing completes and attn is zero.
func (t *Transport) Spin(out []dagmpi.Completion, d time.Duration, attn *atomic.Uint32) ([]dagmpi.Completion, error) {
	return t.poll("Spin", out, d, attn)
}

func (t *Transport) poll(call string, out []dagmpi.Completion, d time.Duration, attn *atomic.Uint32) ([]dagmpi.Completion, error) {
	if t.closed {
		return out, fmt.Errorf("p2p: %s on rank %d: transport closed", call, t.rank)
	}
	if len(t.early) > 0 {
		// Report them alone: a Testsome now would cost as much as the
		// next call's, which comes at once.
		out = append(out, t.early...)
		t.early = t.early[:0]
		return out, nil
	}
	n := t.set.Len()
	if n == 0 {
		return out, nil
	}
	if cap(t.idx) < n {
		t.idx = make([]int, n)
		t.st = make([]mpi.Status, n)
	}
	idx, st := t.idx[:n], t.st[:n]
	k, err := t.set.TestsomeFor(idx, st, d, attn)
	if err != nil && !errors.Is(err, mpi.ErrInStatus) {
		return out, fmt.Errorf("p2p: rank %d: %w", t.rank, err)
	}
	if k == mpi.Undefined || k <= 0 {
		return out, nil
	}
	for i := 0; i < k; i++ {
		m := &t.meta[idx[i]]
		c := dagmpi.Completion{ID: m.id, Bytes: m.n, Err: st[i].Err}
		if !m.send && st[i].Err == nil {
			c.Bytes = st[i].Count
		}
		if m.slot != nil {
			if st[i].Err == nil {
				copy(m.dst, m.slot[:c.Bytes])
			}
			t.slots = append(t.slots, m.slot)
			m.slot, m.dst = nil, nil
		}
		out = append(out, c)
	}
	// Drop the completed (now null) requests: move the last live ones
	// into their places (Testsome gives no order guarantee anyway), in
	// O(k) rather than a pass over every request in flight. Filling the
	// highest index first keeps every index still to be filled below the
	// shrinking end, so each request moved is a live one.
	sortInts(idx[:k]) // MPI libraries return them sorted already
	for i := k - 1; i >= 0; i-- {
		x, j := idx[i], len(t.meta)-1
		t.set.Delete(x)
		t.meta[x] = t.meta[j]
		t.meta[j] = reqMeta{}
		t.meta = t.meta[:j]
	}
	return out, nil
}

// Close frees the communicator. It is collective over it. Requests still in
// flight are an error (their buffers would stay pinned).
func (t *Transport) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	if n := t.set.Len(); n > 0 {
		return fmt.Errorf("p2p: Close on rank %d: %d requests still in flight", t.rank, n)
	}
	for _, c := range t.chunks {
		if err := mpi.FreeMem(c); err != nil {
			return fmt.Errorf("p2p: Close on rank %d: %w", t.rank, err)
		}
	}
	t.chunks, t.slots = nil, nil
	return t.comm.Free()
}

// AllreduceUint64 implements dagmpi.Controller with mpi.Allreduce.
func (t *Transport) AllreduceUint64(op dagmpi.ReduceOp, in, out []uint64) error {
	var o mpi.Op
	switch op {
	case dagmpi.OpSum:
		o = mpi.Sum
	case dagmpi.OpMax:
		o = mpi.Max
	case dagmpi.OpMin:
		o = mpi.Min
	default:
		return fmt.Errorf("p2p: AllreduceUint64: unknown operation %d", op)
	}
	return mpi.Allreduce(t.comm, in, out, o)
}

// AbortCode is the exit code of a job that Abort ends.
const AbortCode = 70

// AbortGrace is how long Abort lets MPI_Abort work before it exits the
// process itself (which makes mpirun end the job): MPI_Abort has been seen
// to hang when other ranks are stuck in user code.
var AbortGrace = 5 * time.Second

// Abort implements dagmpi.Controller: it prints msg and ends the job with
// MPI_Abort (exit code AbortCode). It does not return.
func (t *Transport) Abort(msg string) {
	go func() {
		time.Sleep(AbortGrace)
		fmt.Fprintf(os.Stderr, "p2p: rank %d: MPI_Abort did not end the job within %v; exiting\n", t.rank, AbortGrace)
		os.Exit(AbortCode)
	}()
	mpi.Abort(t.comm, AbortCode, msg)
	select {} // MPI_Abort returned: wait for the exit above
}

// NewRuntime creates this rank's dagmpi.Runtime over a Transport on a Dup
// of comm. It is collective over comm. The Runtime owns the Transport:
// Runtime.Close frees the duplicated communicator.
func NewRuntime(comm *mpi.Comm, opts ...dagmpi.Option) (*dagmpi.Runtime, error) {
	tr, err := New(comm)
	if err != nil {
		return nil, err
	}
	return dagmpi.NewOwned(tr, opts...)
}

// sortInts sorts a short slice in place (insertion sort: no work when it is
// sorted already, the usual case).
func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
