// Package mux builds the runtime's MPI transport from a name, and its
// "auto" transport, which routes each transfer to the point-to-point or the
// one-sided transport by the message size, from costs measured when the
// job starts.
//
// Names (the examples' -transport flag, or SPMD_TRANSPORT when the flag is
// empty or "env"):
//
//	p2p        dagmpi/p2p: MPI_Isend/MPI_Irecv
//	rma        dagmpi/onesided: MPI_Put into window slots, with credits
//	auto       both, each message on the one measured faster for its size
//	collective p2p, with versions read by several ranks moving along
//	           binomial broadcast trees (dagmpi.WithBroadcastTree); a runtime
//	           mode, so only NewRuntime takes it, and not with WithPruned
//
// # Why routing by size is safe
//
// The runtime knows every message's exact size on both sides, so sender and
// receiver route a message the same way without talking. Each underlying
// transport keeps MPI's matching order for the messages it carries, and the
// k-th message of a pair with a given tag and size class meets the k-th
// receive of that pair, tag and class: the runtime's matching rules hold.
// The one thing Auto gives up is a receive into a buffer of another size
// than the message (MPI's short message and truncation): a message is routed
// by its size and a receive by its buffer's, so they may never meet. The
// runtime always posts receives of the exact size.
package mux

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/onesided"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/mpi"
)

// EnvTransport names the transport when none is given.
const EnvTransport = "SPMD_TRANSPORT"

// EnvWindowMax caps the one-sided window that auto opens, in bytes per rank
// (a number with an optional K, M or G suffix for KiB, MiB, GiB). Default
// DefaultWindowMax.
const EnvWindowMax = "SPMD_AUTO_WINDOW_MAX"

// DefaultWindowMax is auto's default cap on its one-sided window: 65 MiB per
// rank, which the default window (onesided.Config.WindowBytes: 256 KiB and
// 128 bytes per rank of the job) fits up to 259 ranks.
const DefaultWindowMax = 65 << 20

// Names lists the transport names New accepts.
var Names = []string{"p2p", "rma", "auto", "collective"}

// ErrUnavailable is returned for a transport that is named but not built.
var ErrUnavailable = errors.New("transport not available")

// New returns the transport called name on a duplicate of comm (collective
// over comm). An empty name reads SPMD_TRANSPORT, and defaults to auto.
func New(comm *mpi.Comm, name string) (dagmpi.Transport, error) {
	if name == "" || name == "env" {
		name = os.Getenv(EnvTransport)
		if name == "" {
			name = "auto"
		}
	}
	switch strings.ToLower(name) {
	case "p2p":
		return p2p.New(comm)
	case "rma", "onesided":
		return onesided.New(comm)
	case "auto":
		return NewAuto(comm)
	case "collective":
		return nil, fmt.Errorf("mux: %q is a runtime mode (p2p with dagmpi.WithBroadcastTree): %w as a bare transport; use NewRuntime", name, ErrUnavailable)
	}
	return nil, fmt.Errorf("mux: unknown transport %q (want one of %s)", name, strings.Join(Names, ", "))
}

// NewRuntime creates this rank's Runtime over New(comm, name), which it
// owns. It is collective over comm.
func NewRuntime(comm *mpi.Comm, name string, opts ...dagmpi.Option) (*dagmpi.Runtime, error) {
	if name == "" || name == "env" {
		name = os.Getenv(EnvTransport)
	}
	opts = opts[:len(opts):len(opts)]
	if strings.EqualFold(name, "collective") {
		name = "p2p"
		opts = append(opts, dagmpi.WithBroadcastTree())
	}
	tr, err := New(comm, name)
	if err != nil {
		return nil, err
	}
	return dagmpi.NewOwned(tr, opts...)
}

// classes is the number of size classes: class c holds sizes with
// bits.Len(size) == c, so sizes up to 2^(classes-1)-1 bytes have their own
// class and larger ones share the last.
const classes = 32

// Auto is a Transport that routes each message by size class to one of
// two transports (see the package comment).
type Auto struct {
	sub     [2]dagmpi.Transport // 0: p2p, 1: one-sided
	route   [classes]uint8      // size class -> sub index
	pending [2]int              // operations in flight per sub
	ctl     *p2p.Transport
	calib   time.Duration
	peer    int  // the rank that calibrated with rank 0
	remote  bool // peer is on another node than rank 0
	closed  bool

	// Broadcast trees (calibrateTree): timed at 4 ranks or more; trees
	// advised from treeFrom bytes, or never when it is negative.
	treeTimed   bool
	treeSkipped bool // not timed: a node runs more ranks than it has cores
	treeFrom    int
	treeTimes   [][2]time.Duration // rank 0 and the readers: best flat and tree time per treeSizes

	slot int // the one-sided transport's SlotBytes (see routeOf)

	noWindow string   // why auto opened no one-sided window ("" when it did)
	node     nodeInfo // the nodes, learnt once in newAuto
}

// Calibrated returns the rank that timed the transports with rank 0 and
// whether it is on another node (NewAuto picks one when there is one, so
// that the routing fits the traffic between nodes); 0 and false when no
// calibration ran (one rank, or NewAutoRoutes). Without a window (NoWindow)
// nothing is timed, but the rank that would have been is still returned.
func (a *Auto) Calibrated() (peer int, otherNode bool) { return a.peer, a.remote }

// Calibration returns how long NewAuto spent measuring.
func (a *Auto) Calibration() time.Duration { return a.calib }

var (
	_ dagmpi.Transport   = (*Auto)(nil)
	_ dagmpi.Controller  = (*Auto)(nil)
	_ dagmpi.Spinner     = (*Auto)(nil)
	_ dagmpi.PathNamer   = (*Auto)(nil)
	_ dagmpi.Lender      = (*Auto)(nil)
	_ dagmpi.TreeAdvisor = (*Auto)(nil)
)

// BroadcastTreeFrom implements dagmpi.TreeAdvisor: NewAuto timed a version
// read by three ranks moved flat and along a tree (at 4 ranks or more), and
// advises trees from the smallest size where the tree was faster; false
// when it was never faster or not timed (fewer than 4 ranks, or a node
// running more ranks than the cores its ranks may use).
func (a *Auto) BroadcastTreeFrom() (int, bool) { return a.treeFrom, a.treeTimed && a.treeFrom >= 0 }

// TreeTimes returns what the tree calibration measured on this rank (rank
// 0 and the three readers; nil elsewhere): per size of 64 KiB and 1 MiB,
// the best time of a flat and of a tree broadcast to three readers, as seen
// by rank 0 (the readers report zeros).
func (a *Auto) TreeTimes() [][2]time.Duration { return a.treeTimes }

// Paths implements dagmpi.PathNamer: "p2p" (path 0) and "rma" (path 1),
// whether or not the one-sided transport is open, so that every Auto
// reports the same two paths.
func (a *Auto) Paths() []string { return []string{"p2p", "rma"} }

// mark sets the Path of the completions that sub-transport s appended.
func mark(out []dagmpi.Completion, s int) {
	for i := range out {
		out[i].Path = uint8(s)
	}
}

// NewAuto creates both transports on duplicates of comm and measures which
// is faster for each size class: rank 0 and one other rank (the first on
// another node when the job spans nodes, else rank 1) bounce messages of 8
// bytes to 1 MiB through each (about 100 ms on one node), and rank 0's
// choice is broadcast, so every rank routes the same way. At 4 ranks or
// more it also times broadcast trees (see BroadcastTreeFrom). It is
// collective over comm.
func NewAuto(comm *mpi.Comm) (*Auto, error) {
	a, err := newAuto(comm)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	err = a.calibrate(comm)
	a.calib = time.Since(t0)
	if err == nil {
		err = a.dropUnused()
	}
	if err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// newAuto creates both transports, routing everything point-to-point; the
// one-sided one only when its window fits (see windowCheck).
func newAuto(comm *mpi.Comm) (*Auto, error) {
	p, err := p2p.New(comm)
	if err != nil {
		return nil, err
	}
	a := &Auto{sub: [2]dagmpi.Transport{p, nil}, ctl: p, slot: onesided.DefaultConfig.SlotBytes}
	if a.node, err = nodesOf(comm); err != nil {
		p.Close()
		return nil, err
	}
	why, err := windowCheck(comm, a.node.local, onesided.DefaultConfig)
	if err != nil {
		p.Close()
		return nil, err
	}
	if why != "" {
		a.noWindow = why
		return a, nil
	}
	o, err := onesided.New(comm)
	if err != nil {
		p.Close()
		return nil, err
	}
	a.sub[1] = o
	return a, nil
}

// windowCheck decides, identically on every rank of comm, whether auto may
// open the one-sided window of cfg, and says why not: the window grows
// with the job (cfg.WindowBytes), and it lives in shared memory that Open
// MPI maps from /dev/shm, which a container may keep small. It refuses a
// window larger than the cap (SPMD_AUTO_WINDOW_MAX, default
// DefaultWindowMax) and, on a node whose /dev/shm has less free space than
// twice its ranks' windows, refuses it everywhere. A cap that does not
// parse on any rank is an error on every rank. local is the number of
// ranks on this rank's node. It is collective.
func windowCheck(comm *mpi.Comm, local int, cfg onesided.Config) (string, error) {
	need := cfg.WindowBytes(comm.Size())
	limit, perr := windowMax()
	// flags: cap unreadable, over the cap, too little /dev/shm (all by
	// Max); then the smallest free space of a node that has too little,
	// in MiB (by Min).
	flags := []int32{0, 0, 0, math.MaxInt32}
	switch {
	case perr != nil:
		flags[0] = 1
	case need > limit:
		flags[1] = 1
	}
	if free, ok := shmFree(); ok && uint64(local)*uint64(need)*2 > free {
		flags[2] = 1
		flags[3] = int32(min(free>>20, math.MaxInt32))
	}
	agreed := make([]int32, 4)
	if err := mpi.Allreduce(comm, flags[:3], agreed[:3], mpi.Max); err != nil {
		return "", fmt.Errorf("mux: agreeing on the one-sided window: %w", err)
	}
	if err := mpi.Allreduce(comm, flags[3:], agreed[3:], mpi.Min); err != nil {
		return "", fmt.Errorf("mux: agreeing on the one-sided window: %w", err)
	}
	switch {
	case perr != nil:
		return "", perr
	case agreed[0] != 0:
		return "", fmt.Errorf("mux: %s could not be read on another rank", EnvWindowMax)
	case agreed[1] != 0:
		return fmt.Sprintf("no one-sided window: it would take %s per rank at %d ranks, over the cap of %s (%s)",
			approx(need), comm.Size(), approx(limit), EnvWindowMax), nil
	case agreed[2] != 0:
		return fmt.Sprintf("no one-sided window: /dev/shm has %d MiB free on a node, less than twice its ranks' windows of %s each",
			agreed[3], approx(need)), nil
	}
	return "", nil
}

// shmFree returns the free bytes of /dev/shm, where Open MPI maps the
// shared memory of one-sided windows, and whether it could tell (a
// variable, so that tests can make /dev/shm small).
var shmFree = shmFreeStatfs

// approx writes a byte count to one decimal in the largest unit it reaches.
func approx(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// windowMax returns the cap on auto's window: SPMD_AUTO_WINDOW_MAX or
// DefaultWindowMax.
func windowMax() (int, error) {
	v := strings.TrimSpace(os.Getenv(EnvWindowMax))
	if v == "" {
		return DefaultWindowMax, nil
	}
	n, err := parseBytes(v)
	if err != nil {
		return 0, fmt.Errorf("mux: %s=%q: %w", EnvWindowMax, v, err)
	}
	return n, nil
}

// parseBytes reads a byte count: digits with an optional K, M or G suffix
// for KiB, MiB or GiB, which may also be written KB, KiB, MB, MiB, GB, GiB
// (any case), or B for bytes.
func parseBytes(v string) (int, error) {
	s := strings.ToUpper(v)
	shift := 0
	for _, u := range []struct {
		suffix string
		shift  int
	}{{"KIB", 10}, {"MIB", 20}, {"GIB", 30}, {"KB", 10}, {"MB", 20}, {"GB", 30}, {"K", 10}, {"M", 20}, {"G", 30}, {"B", 0}} {
		if strings.HasSuffix(s, u.suffix) {
			s, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseUint(s, 10, 63-shift)
	if err != nil {
		return 0, errors.New("want a byte count such as 1048576, 512K, 64M or 1G")
	}
	return int(n) << shift, nil
}

// NewAutoRoutes is NewAuto with a fixed routing instead of a measured one:
// rma[c] says whether size class c (sizes s with bits.Len(s) == c) goes
// one-sided. It is collective; every rank passes the same table. For tests
// and for forcing a policy.
func NewAutoRoutes(comm *mpi.Comm, rma [classes]bool) (*Auto, error) {
	a, err := newAuto(comm)
	if err != nil {
		return nil, err
	}
	for c, r := range rma {
		if r && a.noWindow != "" {
			a.Close()
			return nil, fmt.Errorf("mux: NewAutoRoutes: size class %d routed one-sided, but %s", c, a.noWindow)
		}
		if r {
			a.route[c] = 1
		}
	}
	if err := a.dropUnused(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// dropUnused closes the one-sided transport when no size class routes to
// it, so that a job the calibration routes wholly point-to-point holds no
// window and polls nothing but p2p: it then moves data exactly as the p2p
// transport does. Every rank has the same routing, so the close (an
// MPI_Win_free) is collective as it must be.
func (a *Auto) dropUnused() error {
	if a.sub[1] == nil {
		return nil
	}
	for _, r := range a.route {
		if r == 1 {
			return nil
		}
	}
	err := a.sub[1].Close()
	a.sub[1] = nil
	if err != nil {
		return fmt.Errorf("mux: closing the unused one-sided transport: %w", err)
	}
	return nil
}

// OneSided reports whether the one-sided transport is open. NewAuto and
// NewAutoRoutes close it when no message size is routed there, and do not
// open it when its window is refused (see NoWindow).
func (a *Auto) OneSided() bool { return a.sub[1] != nil }

// NoWindow says why auto opened no one-sided window (its size over
// SPMD_AUTO_WINDOW_MAX, or too little free space in a node's /dev/shm), so
// that every message goes point-to-point; "" when the window was allowed.
func (a *Auto) NoWindow() string { return a.noWindow }

// Routes reports, per size class (bits.Len of the size), whether messages
// go one-sided.
func (a *Auto) Routes() [classes]bool {
	var out [classes]bool
	for c, r := range a.route {
		out[c] = r == 1
	}
	return out
}

// Describe summarises the routing, for example "p2p <2KiB, rma 2KiB-16KiB,
// p2p >=16KiB".
func (a *Auto) Describe() string {
	var parts []string
	start := 0
	for c := 1; c <= classes; c++ {
		if c < classes && a.route[c] == a.route[start] {
			continue
		}
		name := "p2p"
		if a.route[start] == 1 {
			name = "rma"
		}
		lo, hi := classLow(start), classLow(c)
		switch {
		case start == 0 && c == classes:
			parts = append(parts, name+" all sizes")
		case start == 0:
			parts = append(parts, fmt.Sprintf("%s <%s", name, human(hi)))
		case c == classes:
			parts = append(parts, fmt.Sprintf("%s >=%s", name, human(lo)))
		default:
			parts = append(parts, fmt.Sprintf("%s %s-%s", name, human(lo), human(hi)))
		}
		start = c
	}
	s := strings.Join(parts, ", ")
	if a.noWindow != "" {
		s += " (" + a.noWindow + ")"
	}
	switch min, ok := a.BroadcastTreeFrom(); {
	case ok:
		s += "; broadcast trees from " + human(min)
	case a.treeSkipped:
		s += "; broadcast trees not timed (a node runs more ranks than it has cores)"
	case a.treeTimed:
		s += "; no broadcast trees (flat was faster)"
	}
	return s
}

func classLow(c int) int {
	if c == 0 {
		return 0
	}
	return 1 << (c - 1)
}

func human(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

func classOf(n int) int { return min(bits.Len(uint(n)), classes-1) }

// Rank implements dagmpi.Transport.
func (a *Auto) Rank() int { return a.ctl.Rank() }

// Size implements dagmpi.Transport.
func (a *Auto) Size() int { return a.ctl.Size() }

// TagBound implements dagmpi.Transport: the smaller of the two bounds.
func (a *Auto) TagBound() int {
	if a.sub[1] == nil {
		return a.sub[0].TagBound()
	}
	return min(a.sub[0].TagBound(), a.sub[1].TagBound())
}

// Send implements dagmpi.Transport.
func (a *Auto) Send(buf []byte, dst, tag int, id uint64) error {
	s := a.routeOf(len(buf))
	if err := a.sub[s].Send(buf, dst, tag, id); err != nil {
		return err
	}
	a.pending[s]++
	return nil
}

// Recv implements dagmpi.Transport.
func (a *Auto) Recv(buf []byte, src, tag int, id uint64) error {
	s := a.routeOf(len(buf))
	if err := a.sub[s].Recv(buf, src, tag, id); err != nil {
		return err
	}
	a.pending[s]++
	return nil
}

// routeOf returns the transport a message of n bytes takes: its size
// class's, except that a message bigger than one one-sided slot (cut into
// chunks and copied out, where one that fits is lent) goes one-sided only
// if the class of twice the slot does: the calibration times a slot-sized
// message (64 KiB) and one of twice that (128 KiB), and the class of the
// first also holds sizes up to twice it. Every rank has the same table and
// slot size, so both sides of a message route it the same way.
func (a *Auto) routeOf(n int) uint8 {
	s := a.route[classOf(n)]
	if s == 1 && n > a.slot && a.route[classOf(2*a.slot)] == 0 {
		return 0
	}
	return s
}

// lender returns the one-sided transport as a dagmpi.Lender if it is open.
func (a *Auto) lender() dagmpi.Lender {
	if a.sub[1] == nil {
		return nil
	}
	l, _ := a.sub[1].(dagmpi.Lender)
	return l
}

// Lends implements dagmpi.Lender: messages of n bytes are lent when they
// are routed to the one-sided transport and it lends them.
func (a *Auto) Lends(n int) bool {
	l := a.lender()
	return l != nil && a.routeOf(n) == 1 && l.Lends(n)
}

// RecvLoan implements dagmpi.Lender on the one-sided transport; the
// Runtime calls it only for sizes Lends accepts.
func (a *Auto) RecvLoan(n, src, tag int, id uint64) error {
	if !a.Lends(n) {
		return fmt.Errorf("mux: RecvLoan of %d bytes on rank %d: messages of that size are not lent (routed %s)", n, a.Rank(), a.Paths()[a.routeOf(n)])
	}
	if err := a.lender().RecvLoan(n, src, tag, id); err != nil {
		return err
	}
	a.pending[1]++
	return nil
}

// Return implements dagmpi.Lender.
func (a *Auto) Return(buf []byte) {
	l := a.lender()
	if l == nil {
		panic(fmt.Sprintf("mux: Return on rank %d of a %d-byte buffer: this Auto has no one-sided transport and lent nothing", a.Rank(), len(buf)))
	}
	l.Return(buf)
}

// Progress implements dagmpi.Transport: it polls the transports that have
// operations in flight.
func (a *Auto) Progress(out []dagmpi.Completion) ([]dagmpi.Completion, error) {
	for s := range a.sub {
		if a.pending[s] == 0 {
			continue
		}
		n := len(out)
		var err error
		if out, err = a.sub[s].Progress(out); err != nil {
			return out, err
		}
		mark(out[n:], s)
		a.pending[s] -= len(out) - n
	}
	return out, nil
}

// Spin implements dagmpi.Spinner: when all operations in flight are on one
// transport and that one is a Spinner (p2p), it spins there; otherwise it
// polls both, as Progress, until something completes, attn is set or d has
// passed.
func (a *Auto) Spin(out []dagmpi.Completion, d time.Duration, attn *atomic.Uint32) ([]dagmpi.Completion, error) {
	for s := range a.sub {
		if a.pending[s] == 0 || a.pending[1-s] != 0 {
			continue
		}
		sp, ok := a.sub[s].(dagmpi.Spinner)
		if !ok {
			break
		}
		n := len(out)
		out, err := sp.Spin(out, d, attn)
		mark(out[n:], s)
		a.pending[s] -= len(out) - n
		return out, err
	}
	var deadline time.Time
	for i := 0; ; i++ {
		n := len(out)
		var err error
		if out, err = a.Progress(out); err != nil || len(out) > n || (attn != nil && attn.Load() != 0) {
			return out, err
		}
		// The clock costs about as much as a poll: read it every 16.
		if i%16 == 0 {
			now := time.Now()
			if i == 0 {
				deadline = now.Add(d)
			} else if now.After(deadline) {
				return out, nil
			}
		}
	}
}

// Close closes both transports. It is collective.
func (a *Auto) Close() error {
	if a.closed {
		return nil
	}
	a.closed = true
	var err error
	if a.sub[1] != nil {
		err = a.sub[1].Close()
	}
	return errors.Join(err, a.sub[0].Close())
}

// AllreduceUint64 implements dagmpi.Controller.
func (a *Auto) AllreduceUint64(op dagmpi.ReduceOp, in, out []uint64) error {
	return a.ctl.AllreduceUint64(op, in, out)
}

// Abort implements dagmpi.Controller.
func (a *Auto) Abort(msg string) { a.ctl.Abort(msg) }
