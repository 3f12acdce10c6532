package mux

import (
	"errors"
	"fmt"
	"math/bits"
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
	nodes := a.node.ids
	if comm.Size() >= 2 {
		peer = calibrationPair(nodes)
		a.peer, a.remote = peer, nodes[peer] != nodes[0]
	}
	// A failed measurement still reaches the broadcast (the other ranks
	// wait in it), with a status word saying so when rank 0 failed.
	// Without a window (refused identically on every rank) everything goes
	// point-to-point: nothing to time.
	var merr error
	if me := comm.Rank(); comm.Size() >= 2 && a.OneSided() && (me == 0 || me == peer) {
		merr = a.timeRoutes(me, peer, &table)
	}
	if comm.Size() >= 2 && a.OneSided() {
		msg := append(table[:], 0)
		if merr != nil {
			msg[classes] = 1
		}
		if err := mpi.Bcast(comm, msg, 0); err != nil {
			return fmt.Errorf("mux: broadcasting the routing: %w", err)
		}
		copy(table[:], msg)
		if merr == nil && msg[classes] != 0 {
			merr = errors.New("mux: calibration failed on rank 0")
		}
	}
	if merr != nil {
		return merr
	}
	a.route = table
	if comm.Size() >= 4 {
		if a.node.oversub {
			// Ranks that share cores time the scheduler, not the tree:
			// no advice (on such a node the verdict flipped from one
			// start-up to the next).
			a.treeSkipped = true
			return nil
		}
		if err := a.calibrateTree(comm, nodes); err != nil {
			return err
		}
	}
	return nil
}

// maskWords is the size of a CPU mask in 64-bit words: 1,024 CPUs.
const maskWords = 16

// affinityMask returns the CPUs this process may run on and whether it
// could tell (a variable, so that tests can give a node more or fewer
// cores).
var affinityMask = affinityMaskSyscall

// nodeInfo is what auto learns of the nodes at start-up, from one
// MPI_COMM_TYPE_SHARED split (see nodesOf).
type nodeInfo struct {
	local   int     // ranks on this rank's node
	ids     []int32 // for every rank of comm, the lowest rank of comm on its node
	oversub bool    // some node runs more ranks than the CPUs their affinity masks cover together
}

// nodesOf returns the nodeInfo of comm, identical on every rank but for
// local. A node where some rank cannot read its CPU mask does not count as
// oversubscribed. It is collective.
func nodesOf(comm *mpi.Comm) (nodeInfo, error) {
	sh, err := comm.SplitShared(0)
	if err != nil {
		return nodeInfo{}, fmt.Errorf("mux: finding the ranks of this node: %w", err)
	}
	defer sh.Free()
	n := nodeInfo{local: sh.Size(), ids: make([]int32, comm.Size())}
	lead := []int32{0}
	if err := mpi.Allreduce(sh, []int32{int32(comm.Rank())}, lead, mpi.Min); err != nil {
		return nodeInfo{}, fmt.Errorf("mux: finding the nodes: %w", err)
	}
	if err := mpi.Allgather(comm, lead, n.ids); err != nil {
		return nodeInfo{}, fmt.Errorf("mux: finding the nodes: %w", err)
	}
	mask, ok := affinityMask()
	if !ok || len(mask) != maskWords {
		mask = make([]uint64, maskWords)
	}
	union := make([]uint64, maskWords)
	if err := mpi.Allreduce(sh, mask, union, mpi.Bor); err != nil {
		return nodeInfo{}, fmt.Errorf("mux: joining the node's CPU masks: %w", err)
	}
	known := []int32{0}
	if ok {
		known[0] = 1
	}
	allKnown := []int32{0}
	if err := mpi.Allreduce(sh, known, allKnown, mpi.Min); err != nil {
		return nodeInfo{}, fmt.Errorf("mux: joining the node's CPU masks: %w", err)
	}
	cpus := 0
	for _, w := range union {
		cpus += bits.OnesCount64(w)
	}
	over := []int32{0}
	if allKnown[0] == 1 && cpus > 0 && n.local > cpus {
		over[0] = 1
	}
	anyOver := []int32{0}
	if err := mpi.Allreduce(comm, over, anyOver, mpi.Max); err != nil {
		return nodeInfo{}, fmt.Errorf("mux: agreeing on oversubscription: %w", err)
	}
	n.oversub = anyOver[0] == 1
	return n, nil
}

// timeRoutes is calibrate's measurement, on rank 0 and peer: it fills
// table with the faster transport per size class.
func (a *Auto) timeRoutes(me, peer int, table *[classes]uint8) error {
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
	return nil
}

// treeSizes are the version sizes calibrateTree times.
var treeSizes = []int{64 << 10, 1 << 20}

// treeReaders returns the three ranks that read rank 0's version in the
// tree calibration: ranks on other nodes than rank 0 first (where a
// location's link is what a tree spares), then the others, in rank order.
func treeReaders(nodes []int32) [3]int {
	var rs [3]int
	n := 0
	for pass := 0; pass < 2 && n < 3; pass++ {
		for r := 1; r < len(nodes) && n < 3; r++ {
			if (nodes[r] != nodes[0]) == (pass == 0) {
				rs[n] = r
				n++
			}
		}
	}
	return rs
}

// calibrateTree decides whether the Runtime should move a version read on
// several ranks along a broadcast tree (dagmpi.TreeAdvisor): rank 0 and the
// three ranks treeReaders picks move a version of each of treeSizes through
// the p2p transport flat (rank 0 sends three times) and along the Runtime's
// binomial tree (rank 0 sends to the first two readers, the first forwards
// to the third), the best of five runs each, taken in turn; trees are
// advised from the smallest size from which the tree was 10% faster at every
// size timed. Rank 0's verdict is broadcast. comm has at least 4 ranks.
func (a *Auto) calibrateTree(comm *mpi.Comm, nodes []int32) error {
	rs := treeReaders(nodes)
	me := comm.Rank()
	verdict := []int64{-1}
	var merr error
	if me == 0 || me == rs[0] || me == rs[1] || me == rs[2] {
		merr = a.timeTrees(me, rs, verdict)
	}
	// Reached by every rank, also after a failed measurement: -2 says
	// rank 0's failed.
	if me == 0 && merr != nil {
		verdict[0] = -2
	}
	if err := mpi.Bcast(comm, verdict, 0); err != nil {
		return fmt.Errorf("mux: broadcasting the tree verdict: %w", err)
	}
	if merr == nil && verdict[0] == -2 {
		merr = errors.New("mux: timing broadcast trees failed on rank 0")
	}
	if merr != nil {
		return merr
	}
	a.treeTimed = true
	a.treeFrom = int(verdict[0])
	return nil
}

// timeTrees is calibrateTree's measurement, on rank 0 and the readers rs;
// rank 0 sets verdict[0].
func (a *Auto) timeTrees(me int, rs [3]int, verdict []int64) error {
	buf := make([]byte, treeSizes[len(treeSizes)-1])
	rbuf := make([]byte, len(buf))
	round := 0
	for _, n := range treeSizes {
		t := [2]time.Duration{time.Hour, time.Hour}
		for rep := 0; rep < 6; rep++ { // the first is a warm-up
			for mode := range t {
				d, err := treeOnce(a.sub[0], me, rs, mode == 1, buf[:n], rbuf[:n], round)
				round++
				if err != nil {
					return fmt.Errorf("mux: timing broadcast trees: %w", err)
				}
				if rep > 0 {
					t[mode] = min(t[mode], d)
				}
			}
		}
		a.treeTimes = append(a.treeTimes, t)
	}
	// Trees from the smallest size from which they won at every size
	// timed (the advice is one threshold).
	if me == 0 {
		for i := len(treeSizes) - 1; i >= 0; i-- {
			t := a.treeTimes[i]
			if float64(t[1]) >= 0.9*float64(t[0]) {
				break
			}
			verdict[0] = int64(treeSizes[i])
		}
	}
	return nil
}

// treeOnce moves buf from rank 0 to the readers rs, along the tree or
// flat, and returns the time rank 0 took to hear every reader's 8-byte
// acknowledgement (0 on the readers). Only rank 0 and the readers call it,
// with the same round.
func treeOnce(tr dagmpi.Transport, me int, rs [3]int, tree bool, buf, rbuf []byte, round int) (time.Duration, error) {
	tag := 1 + 2*(round%1000)
	ack := tag + 1
	var ids []uint64
	next := uint64(round) << 8
	post := func(err error) error {
		ids = append(ids, next)
		next++
		return err
	}
	send := func(b []byte, dst, tg int) error { return post(tr.Send(b, dst, tg, next)) }
	recv := func(b []byte, src, tg int) error { return post(tr.Recv(b, src, tg, next)) }
	wait := func() error {
		left := make(map[uint64]bool, len(ids))
		for _, id := range ids {
			left[id] = true
		}
		ids = ids[:0]
		var done []dagmpi.Completion
		deadline := time.Now().Add(10 * time.Second)
		for polls := 0; len(left) > 0; polls++ {
			var err error
			if done, err = tr.Progress(done[:0]); err != nil {
				return err
			}
			for _, c := range done {
				if c.Err != nil {
					return c.Err
				}
				delete(left, c.ID)
			}
			if polls%64 == 63 && time.Now().After(deadline) {
				return fmt.Errorf("rank %d: broadcast timing incomplete after 10s", me)
			}
		}
		return nil
	}
	var acks [3][8]byte
	if me == 0 {
		t0 := time.Now()
		for i, r := range rs {
			if err := recv(acks[i][:], r, ack); err != nil {
				return 0, err
			}
		}
		last := 3
		if tree {
			last = 2 // the first reader forwards to the third
		}
		for _, r := range rs[:last] {
			if err := send(buf, r, tag); err != nil {
				return 0, err
			}
		}
		err := wait()
		return time.Since(t0), err
	}
	src := 0
	if tree && me == rs[2] {
		src = rs[0]
	}
	if err := recv(rbuf, src, tag); err != nil {
		return 0, err
	}
	if err := wait(); err != nil {
		return 0, err
	}
	if tree && me == rs[0] {
		if err := send(rbuf, rs[2], tag); err != nil {
			return 0, err
		}
	}
	if err := send(acks[0][:], 0, ack); err != nil {
		return 0, err
	}
	return 0, wait()
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
