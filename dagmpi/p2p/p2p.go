// Package p2p is the dagmpi.Transport over MPI nonblocking point-to-point
// calls: Isend and Irecv on a communicator of its own, completed with
// Testsome. It is also a dagmpi.Controller (Allreduce for the consistency
// check, MPI_Abort to end the job).
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
// Send and Recv hand their buffers to MPI through mpi.Isend and mpi.Irecv,
// whose requests keep them pinned until Progress completes the request; the
// Transport keeps nothing after that.
package p2p

import (
	"errors"
	"fmt"
	"os"
	"time"

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
	// reqs[i].
	reqs []mpi.Request
	meta []reqMeta
	idx  []int
	st   []mpi.Status

	closed bool
}

type reqMeta struct {
	id   uint64
	n    int
	send bool
}

var (
	_ dagmpi.Transport  = (*Transport)(nil)
	_ dagmpi.Controller = (*Transport)(nil)
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
	r, err := mpi.Isend(t.comm, buf, dst, tag)
	if err != nil {
		return err
	}
	t.reqs = append(t.reqs, r)
	t.meta = append(t.meta, reqMeta{id: id, n: len(buf), send: true})
	return nil
}

// Recv implements dagmpi.Transport with mpi.Irecv.
func (t *Transport) Recv(buf []byte, src, tag int, id uint64) error {
	if err := t.check("Recv", src, tag); err != nil {
		return err
	}
	r, err := mpi.Irecv(t.comm, buf, src, tag)
	if err != nil {
		return err
	}
	t.reqs = append(t.reqs, r)
	t.meta = append(t.meta, reqMeta{id: id, n: len(buf)})
	return nil
}

// Progress implements dagmpi.Transport with one mpi.Testsome over the
// requests in flight.
func (t *Transport) Progress(out []dagmpi.Completion) ([]dagmpi.Completion, error) {
	if t.closed {
		return out, fmt.Errorf("p2p: Progress on rank %d: transport closed", t.rank)
	}
	n := len(t.reqs)
	if n == 0 {
		return out, nil
	}
	if cap(t.idx) < n {
		t.idx = make([]int, n)
		t.st = make([]mpi.Status, n)
	}
	idx, st := t.idx[:n], t.st[:n]
	k, err := mpi.Testsome(t.reqs, idx, st)
	if err != nil && !errors.Is(err, mpi.ErrInStatus) {
		return out, fmt.Errorf("p2p: rank %d: %w", t.rank, err)
	}
	if k == mpi.Undefined || k <= 0 {
		return out, nil
	}
	for i := 0; i < k; i++ {
		m := t.meta[idx[i]]
		c := dagmpi.Completion{ID: m.id, Bytes: m.n, Err: st[i].Err}
		if !m.send && st[i].Err == nil {
			c.Bytes = st[i].Count
		}
		out = append(out, c)
	}
	// Drop the completed (now null) requests, keeping the order of the
	// others (Testsome gives no order guarantee anyway).
	j := 0
	for i := range t.reqs {
		if !t.reqs[i].IsNull() {
			t.reqs[j], t.meta[j] = t.reqs[i], t.meta[i]
			j++
		}
	}
	clear(t.reqs[j:])
	t.reqs, t.meta = t.reqs[:j], t.meta[:j]
	return out, nil
}

// Close frees the communicator. It is collective over it. Requests still in
// flight are an error (their buffers would stay pinned).
func (t *Transport) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	if n := len(t.reqs); n > 0 {
		return fmt.Errorf("p2p: Close on rank %d: %d requests still in flight", t.rank, n)
	}
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
