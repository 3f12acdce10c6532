package mux

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/mpi"
)

// calibrationSizes are the message sizes timed by calibrate; a size class
// between two of them takes the choice of the nearer one (in log scale).
var calibrationSizes = []int{8, 64, 512, 4 << 10, 16 << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20}

// calibrate times a ping-pong through each transport between rank 0 and
// the peer calibrationPair picks (a rank on another node when there is one:
// the traffic that matters most on a cluster), for each calibration size,
// and broadcasts rank 0's routing to all ranks.
func (a *Auto) calibrate(comm *mpi.Comm) error {
	var table [classes]uint8
	peer := 1
	if comm.Size() >= 2 {
		nodes, err := nodeIDs(comm)
		if err != nil {
			return fmt.Errorf("mux: finding the nodes: %w", err)
		}
		peer = calibrationPair(nodes)
		a.peer, a.remote = peer, nodes[peer] != nodes[0]
	}
	if me := comm.Rank(); comm.Size() >= 2 && (me == 0 || me == peer) {
		other := peer
		if me == peer {
			other = 0
		}
		best := make([]uint8, len(calibrationSizes))
		buf := make([]byte, calibrationSizes[len(calibrationSizes)-1])
		rbuf := make([]byte, len(buf))
		for i, n := range calibrationSizes {
			iters := max(4, min(200, (4<<20)/n))
			t := [2]time.Duration{time.Hour, time.Hour}
			for s := range a.sub {
				// Warm up.
				if _, err := pingPong(a.sub[s], me, other, me == 0, buf[:n], rbuf[:n], 2); err != nil {
					return fmt.Errorf("mux: calibrating: %w", err)
				}
			}
			// The best of five short runs each, taken in turn, so that a
			// slow spell of the machine does not fall on one transport only.
			for rep := 0; rep < 5; rep++ {
				for s := range a.sub {
					d, err := pingPong(a.sub[s], me, other, me == 0, buf[:n], rbuf[:n], iters)
					if err != nil {
						return fmt.Errorf("mux: calibrating: %w", err)
					}
					t[s] = min(t[s], d)
				}
			}
			// One-sided only when clearly faster (5%): p2p needs no window
			// space and is the better-understood path.
			if float64(t[1]) < 0.95*float64(t[0]) {
				best[i] = 1
			}
		}
		for c := range table {
			table[c] = best[nearest(c)]
		}
	}
	if comm.Size() >= 2 {
		if err := mpi.Bcast(comm, table[:], 0); err != nil {
			return fmt.Errorf("mux: broadcasting the routing: %w", err)
		}
	}
	a.route = table
	return nil
}

// nearest returns the index of the calibration size whose class is nearest
// to class c.
func nearest(c int) int {
	best, bestD := 0, 1<<30
	for i, n := range calibrationSizes {
		d := classOf(n) - c
		if d < 0 {
			d = -d
		}
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// PingPong bounces buf between ranks 0 and 1 (me is this rank's number,
// 0 or 1) iters times through tr, polling hot as the Runtime's progress
// goroutine does while it spins (Spin slices on a dagmpi.Spinner, Progress
// otherwise), receiving as the Runtime does (into memory the Transport
// lends, given back at once, when it is a dagmpi.Lender of that size; into
// rbuf otherwise), and returns the time of the whole exchange: 2*iters one-way
// trips. The auto transport's calibration uses it, and so does bench/xfer.
// Both ranks call it at once; it leaves no operation pending.
func PingPong(tr dagmpi.Transport, me int, buf, rbuf []byte, iters int) (time.Duration, error) {
	return pingPong(tr, me, 1-me, me == 0, buf, rbuf, iters)
}

// pingPong is PingPong between ranks me and peer; the first sends first.
func pingPong(tr dagmpi.Transport, me, peer int, first bool, buf, rbuf []byte, iters int) (time.Duration, error) {
	const tag = 0
	var done []dagmpi.Completion
	sends := 0
	sp, _ := tr.(dagmpi.Spinner)
	ln, _ := tr.(dagmpi.Lender)
	if ln != nil && !ln.Lends(len(rbuf)) {
		ln = nil
	}
	var attn atomic.Uint32 // never set: nothing else to do here
	await := func(id uint64) error {
		deadline := time.Now().Add(10 * time.Second)
		polls := 0
		for {
			var err error
			if sp != nil {
				done, err = sp.Spin(done[:0], 5*time.Microsecond, &attn)
			} else {
				done, err = tr.Progress(done[:0])
			}
			if err != nil {
				return err
			}
			got := false
			for _, c := range done {
				if c.Err != nil {
					return c.Err
				}
				if c.ID%2 == 1 {
					sends--
				}
				if c.ID == id {
					got = true
					if c.Bytes != len(rbuf) {
						return fmt.Errorf("rank %d: received %d bytes from rank %d, want %d", me, c.Bytes, peer, len(rbuf))
					}
					if c.Loaned {
						ln.Return(c.Buf)
					}
				}
			}
			if got {
				return nil
			}
			// The clock costs as much as a poll: read it every 64.
			if polls++; polls%64 == 0 && time.Now().After(deadline) {
				return fmt.Errorf("rank %d: no reply from rank %d within 10s", me, peer)
			}
		}
	}
	t0 := time.Now()
	for i := 0; i < iters; i++ {
		sid, rid := uint64(4*i+1), uint64(4*i+2)
		var err error
		if ln != nil {
			err = ln.RecvLoan(len(rbuf), peer, tag, rid)
		} else {
			err = tr.Recv(rbuf, peer, tag, rid)
		}
		if err != nil {
			return 0, err
		}
		if !first {
			if err := await(rid); err != nil {
				return 0, err
			}
		}
		if err := tr.Send(buf, peer, tag, sid); err != nil {
			return 0, err
		}
		sends++
		if first {
			if err := await(rid); err != nil {
				return 0, err
			}
		}
	}
	d := time.Since(t0)
	// Collect the last send completions.
	for sends > 0 {
		var err error
		if done, err = tr.Progress(done[:0]); err != nil {
			return 0, err
		}
		for _, c := range done {
			if c.Err != nil {
				return 0, c.Err
			}
			if c.ID%2 == 1 {
				sends--
			}
		}
	}
	return d, nil
}

// nodeIDs returns, for every rank of comm, the lowest rank of comm on its
// node (ranks that MPI_COMM_TYPE_SHARED puts together). It is collective.
func nodeIDs(comm *mpi.Comm) ([]int32, error) {
	sh, err := comm.SplitShared(0)
	if err != nil {
		return nil, err
	}
	defer sh.Free()
	lead := []int32{0}
	if err := mpi.Allreduce(sh, []int32{int32(comm.Rank())}, lead, mpi.Min); err != nil {
		return nil, err
	}
	nodes := make([]int32, comm.Size())
	if err := mpi.Allgather(comm, lead, nodes); err != nil {
		return nil, err
	}
	return nodes, nil
}

// calibrationPair returns the rank that calibrates with rank 0: the first
// rank on another node than rank 0's, else rank 1. nodes has at least two
// entries.
func calibrationPair(nodes []int32) int {
	for r, n := range nodes {
		if n != nodes[0] {
			return r
		}
	}
	return 1
}
