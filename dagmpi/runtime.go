package dagmpi

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime is one rank's view of an SPMD task graph. Every rank creates one
// over its endpoint of the same job, then makes the same sequence of calls
// (NewData, Submit, Wait, Fetch, Close). A Runtime is driven by one
// goroutine, the submitter: its methods are not safe for concurrent use,
// except Stats.
type Runtime struct {
	tr    Transport
	ctrl  Controller
	waker <-chan struct{}
	me    int
	size  int
	tags  uint64 // tag bound
	cfg   config
	obs   Observer

	// Submitter-owned state: touched only by the goroutine calling Submit.
	ndata   int      // Data handles created: the next one's identity
	nsub    uint64   // tasks submitted (including tasks this rank skips)
	sendSeq []uint64 // per destination: transfers assigned so far
	recvSeq []uint64 // per source
	hash    uint64   // hash of the submission stream
	slog    *spmdLog // where the streams diverged, for the check's report (spmdlog.go); nil when off
	xhash   uint64   // sum over sends minus sum over receives of transfer identities
	scratch []access
	srcs    []int32 // with WithBroadcastTree: each access's tree source, or -1
	closed  bool
	dev     devState // device pools and device tasks (device.go)

	mu        sync.Mutex
	workCond  sync.Cond // workers wait for ready tasks
	userCond  sync.Cond // the submitter waits for completions
	ready     readyHeap
	idle      int      // workers parked on workCond
	busy      int      // workers running a task body
	holdWake  bool     // the progress goroutine decides whom to wake (complete)
	held      int      // tasks made ready while holdWake
	heldTask  *op      // the first of them, kept out of ready for an inline run (complete)
	inPump    bool     // the progress goroutine holds mu in complete: new transfers need no kick
	userWait  bool     // the submitter waits on userCond for:
	userBelow int      // pending <= userBelow, or
	userRep   *replica // userRep.refs == 0
	pending   int      // operations created on this rank and not finished
	pendHead  op       // sentinel of the list of pending operations
	xfer      []*op
	progressN uint64 // completions so far (watchdog)
	err       error
	stopping  bool
	free      []*op
	lender    Lender                // the Transport, when it lends and WithoutLoans is off
	loans     map[*replica]struct{} // replicas whose buf is lent by the Transport

	wake      chan struct{} // wakes the progress goroutine
	busySleep atomic.Bool   // the progress goroutine sleeps because every worker is busy
	ctlReq    chan ctlReq
	progEnd   chan struct{} // closed when the progress goroutine returns
	wg        sync.WaitGroup
	stats     counters
	aborted   atomic.Bool
	abortDone chan struct{} // closed when Controller.Abort returns
	readyHint atomic.Int32  // ready.len(), readable without the lock
	spinner   Spinner       // tr, when it is one
	attn      atomic.Uint32 // nonzero: the progress goroutine has work (see kick)
}

type ctlReq struct {
	op    ReduceOp
	in    []uint64
	reply chan error
	out   []uint64
}

// NewOwned is New with WithOwnedTransport: the Runtime owns tr and its
// Close closes tr. If New fails, NewOwned closes tr itself, so a transport
// constructor followed by NewOwned leaks nothing either way.
func NewOwned(tr Transport, opts ...Option) (*Runtime, error) {
	rt, err := New(tr, append(opts[:len(opts):len(opts)], WithOwnedTransport())...)
	if err != nil {
		tr.Close()
		return nil, err
	}
	return rt, nil
}

// New creates this rank's Runtime over tr. It is local: it makes no
// transport call. The Runtime must be the only user of tr (for MPI: a
// communicator duplicated for it). Unless WithOwnedTransport is given, the
// caller closes tr after Runtime.Close.
func New(tr Transport, opts ...Option) (*Runtime, error) {
	if tr == nil {
		return nil, errors.New(errNilTransport)
	}
	cfg := defaultConfig()
	if d, set, err := WatchdogFromEnv(); err != nil {
		return nil, fmt.Errorf("dagmpi: New: %w", err)
	} else if set {
		cfg.watchdog = d
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.tree && cfg.pruned {
		return nil, errors.New("dagmpi: New: WithBroadcastTree needs every rank to see every reader of a version, which WithPruned does not give")
	}
	if ta, ok := tr.(TreeAdvisor); ok && !cfg.treeSet && !cfg.pruned {
		if min, ok := ta.BroadcastTreeFrom(); ok && min >= 0 {
			cfg.tree, cfg.treeMin = true, min
		}
	}
	me, size := tr.Rank(), tr.Size()
	if size < 1 || me < 0 || me >= size {
		return nil, fmt.Errorf("dagmpi: New: transport reports rank %d of %d", me, size)
	}
	tb := tr.TagBound()
	if tb < 2 {
		return nil, fmt.Errorf("dagmpi: New: transport tag bound %d is below 2", tb)
	}
	if cfg.tagBound != 0 && cfg.tagBound < tb {
		tb = cfg.tagBound
	}
	rt := &Runtime{
		tr:        tr,
		me:        me,
		size:      size,
		tags:      uint64(tb),
		cfg:       cfg,
		obs:       cfg.obs,
		sendSeq:   make([]uint64, size),
		recvSeq:   make([]uint64, size),
		hash:      fnvOffset,
		wake:      make(chan struct{}, 1),
		ctlReq:    make(chan ctlReq),
		progEnd:   make(chan struct{}),
		abortDone: make(chan struct{}),
	}
	names, err := pathNames(tr, cfg.tree)
	if err != nil {
		return nil, err
	}
	rt.stats.names, rt.stats.tree = names, cfg.tree
	if c, ok := tr.(Controller); ok {
		rt.ctrl = c
		if cfg.check && !cfg.pruned {
			rt.slog = newSPMDLog()
		}
	}
	if w, ok := tr.(Waker); ok {
		rt.waker = w.Wake()
	}
	if sp, ok := tr.(Spinner); ok {
		rt.spinner = sp
	}
	if l, ok := tr.(Lender); ok && !cfg.noLoans {
		rt.lender = l
		rt.loans = make(map[*replica]struct{})
	}
	rt.workCond.L = &rt.mu
	rt.userCond.L = &rt.mu
	rt.pendHead.next = &rt.pendHead
	rt.pendHead.prev = &rt.pendHead
	rt.wg.Add(cfg.workers + 1)
	for i := 0; i < cfg.workers; i++ {
		go rt.worker(i)
	}
	go rt.progress()
	return rt, nil
}

// Rank returns this rank's number.
func (rt *Runtime) Rank() int { return rt.me }

// Size returns the number of ranks.
func (rt *Runtime) Size() int { return rt.size }

// Workers returns the number of worker goroutines.
func (rt *Runtime) Workers() int { return rt.cfg.workers }

// Transport returns the Transport the Runtime moves data with, for
// inspection (for example the routing of dagmpi/mux's auto). The Runtime
// owns it: calling its methods would break the Runtime's bookkeeping.
func (rt *Runtime) Transport() Transport { return rt.tr }

// BroadcastTree reports whether versions read on several ranks move along
// broadcast trees, and from which Data size in bytes: set by
// WithBroadcastTree or WithBroadcastTreeFrom, or advised by a TreeAdvisor
// transport.
func (rt *Runtime) BroadcastTree() (minBytes int, on bool) {
	if !rt.cfg.tree {
		return 0, false
	}
	return rt.cfg.treeMin, true
}

// Pruned reports whether the Runtime was created WithPruned: libraries that
// generate task graphs use it to decide whether to leave out the tasks this
// rank takes no part in (calling Data.ProducedOn in their place).
func (rt *Runtime) Pruned() bool { return rt.cfg.pruned }

// Err returns the error that ended the job, or nil.
func (rt *Runtime) Err() error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.err
}

// Wait blocks until every operation submitted so far on this rank has
// finished, then (with the check on and a Controller transport) compares the
// submission across ranks. It is collective: every rank must call it at the
// same point of its submission. It returns the error that ended the job, if
// any.
func (rt *Runtime) Wait() error {
	if rt.closed {
		return ErrClosed
	}
	if err := rt.quiesce(); err != nil {
		return err
	}
	return rt.checkSPMD()
}

// quiesce waits for local completion.
func (rt *Runtime) quiesce() error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for rt.pending > 0 && rt.err == nil {
		rt.waitUserLocked(0, nil)
	}
	err := rt.err
	rt.mu.Unlock()
	rt.afterAbort()
	rt.mu.Lock()
	return err
}

// waitUserLocked blocks the submitter until pending <= below or rep has
// no users (rep may be nil), or a failure.
func (rt *Runtime) waitUserLocked(below int, rep *replica) {
	rt.userWait, rt.userBelow, rt.userRep = true, below, rep
	rt.userCond.Wait()
	rt.userWait, rt.userRep = false, nil
}

// afterAbort waits for a Controller.Abort this rank started to return (an
// MPI abort never does: it ends the process), so that the caller does not
// go on to finalize MPI while the abort is under way.
func (rt *Runtime) afterAbort() {
	if rt.aborted.Load() {
		<-rt.abortDone
	}
}

func (rt *Runtime) checkSPMD() error {
	if !rt.cfg.check || rt.ctrl == nil {
		return nil
	}
	h := rt.hash
	if rt.cfg.pruned {
		h = fnvOffset // the task streams differ by design
	}
	in := []uint64{h, ^h, rt.nsub, ^rt.nsub}
	out := make([]uint64, 4)
	if err := rt.control(OpMax, in, out); err != nil {
		return err
	}
	sum := make([]uint64, 1)
	if err := rt.control(OpSum, []uint64{rt.xhash}, sum); err != nil {
		return err
	}
	var msg string
	switch {
	case !rt.cfg.pruned && (out[2] != rt.nsub || ^out[3] != rt.nsub):
		msg = fmt.Sprintf("dagmpi: rank %d: %v: this rank submitted %d tasks, others between %d and %d (ranks that submit pruned streams need WithPruned)",
			rt.me, ErrNotSPMD.Error()[len("dagmpi: "):], rt.nsub, ^out[3], out[2])
	case out[0] != h || ^out[1] != h:
		msg = fmt.Sprintf("dagmpi: rank %d: %v: submission hash %#x differs from another rank's (min %#x, max %#x) after %d tasks",
			rt.me, ErrNotSPMD.Error()[len("dagmpi: "):], h, ^out[1], out[0], rt.nsub)
	case sum[0] != 0:
		msg = fmt.Sprintf("dagmpi: rank %d: %v: inferred sends and receives do not match across ranks (residual %#x)",
			rt.me, ErrNotSPMD.Error()[len("dagmpi: "):], sum[0])
	default:
		if rt.slog != nil {
			rt.slog.reset(rt.nsub)
		}
		return nil
	}
	if rt.slog != nil && (out[2] != ^out[3] || out[0] != ^out[1]) {
		// The task counts or hashes differ: every rank sees the same
		// reduced values, so all of them locate the divergence together.
		where, err := rt.divergence(^out[3], out[2])
		if err != nil {
			return err
		}
		msg += "; " + where
	}
	err := &failure{msg: msg, kind: ErrNotSPMD}
	rt.mu.Lock()
	rt.failLocked(err, false)
	rt.mu.Unlock()
	return err
}

// control runs a collective on the progress goroutine.
func (rt *Runtime) control(op ReduceOp, in, out []uint64) error {
	req := ctlReq{op: op, in: in, out: out, reply: make(chan error, 1)}
	select {
	case rt.ctlReq <- req:
	case <-rt.progEnd:
		return rt.endErr()
	}
	select {
	case err := <-req.reply:
		return err
	case <-rt.progEnd:
		return rt.endErr()
	}
}

func (rt *Runtime) endErr() error {
	if err := rt.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// Close waits for all work (as Wait, including the check), stops the
// workers and the progress goroutine, and closes the Transport if the
// Runtime owns it. It is collective. After a failure it does not wait for
// pending transfers; it still waits for running task bodies to return.
// Calling it again returns nil.
func (rt *Runtime) Close() error {
	if rt.closed {
		return nil
	}
	err := rt.Wait()
	rt.closed = true
	rt.mu.Lock()
	rt.stopping = true
	rt.workCond.Broadcast()
	rt.mu.Unlock()
	rt.kick()
	rt.wg.Wait()
	rt.returnLoans()
	if derr := rt.closeDevices(); derr != nil && err == nil {
		err = fmt.Errorf("dagmpi: rank %d: releasing devices: %w", rt.me, derr)
	}
	if rt.cfg.ownTransport {
		if cerr := rt.tr.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%w: close: %v", ErrTransport, cerr)
		}
	}
	return err
}

// returnLoans gives the Transport back the memory it lent to replicas
// that are still alive when the Runtime closes; their buffers become nil.
func (rt *Runtime) returnLoans() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for r := range rt.loans {
		r.giveBack()
		r.buf = nil
	}
}

// kick wakes the progress goroutine, or ends its Spinner.Spin.
func (rt *Runtime) kick() {
	rt.attn.Store(1)
	select {
	case rt.wake <- struct{}{}:
	default:
	}
}

// failLocked records the first failure and stops everything. local says
// the failure was found here (so other ranks must be told).
func (rt *Runtime) failLocked(err error, local bool) {
	if rt.err != nil {
		return
	}
	rt.err = err
	rt.workCond.Broadcast()
	rt.userCond.Broadcast()
	rt.kick()
	if local && rt.ctrl != nil && !rt.aborted.Swap(true) {
		// Abort may end the process (MPI): call it outside our lock, on
		// its own goroutine so that a worker never blocks in it.
		msg := err.Error()
		go func() {
			rt.ctrl.Abort(msg)
			close(rt.abortDone)
		}()
	}
}

// Stats returns the counters so far. Safe for concurrent use; it allocates
// the ByTransport map, so call it between phases rather than per task.
func (rt *Runtime) Stats() Stats {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.stats.snapshot()
}

// worker runs ready tasks.
func (rt *Runtime) worker(id int) {
	defer rt.wg.Done()
	t := Task{rt: rt, worker: id}
	rt.mu.Lock()
	for {
		for rt.ready.len() == 0 && !rt.stopping && rt.err == nil {
			rt.mu.Unlock()
			// The progress goroutine may be sleeping because every
			// worker was busy: with one of them out of work, it polls
			// again.
			if rt.busySleep.Load() {
				rt.kick()
			}
			if rt.spin() {
				rt.mu.Lock()
				continue
			}
			rt.mu.Lock()
			if rt.ready.len() != 0 || rt.stopping || rt.err != nil {
				break
			}
			rt.idle++
			var t0 time.Time
			t0 = time.Now()
			rt.workCond.Wait()
			rt.stats.idle += time.Since(t0)
			rt.idle--
		}
		if rt.stopping || rt.err != nil {
			rt.mu.Unlock()
			return
		}
		o := rt.ready.pop()
		rt.readyHint.Store(int32(rt.ready.len()))
		o.running = id + 1
		rt.busy++
		rt.mu.Unlock()

		err := rt.run(&t, o)

		rt.mu.Lock()
		rt.busy--
		if err != nil {
			rt.failLocked(err, true)
		}
		rt.completeLocked(o)
	}
}

// spin polls for work briefly before a worker parks, which saves a futex
// wake per task when tasks arrive one by one. It returns true if work
// appeared.
func (rt *Runtime) spin() bool {
	var t0 time.Time
	for i := 0; ; i++ {
		if rt.readyHint.Load() > 0 {
			return true
		}
		if i&15 == 0 {
			if i == 0 {
				t0 = time.Now()
			} else if time.Since(t0) > workerSpin {
				return false
			}
		}
		gosched()
	}
}

// workerSpin is how long an idle worker looks for work before it parks.
const workerSpin = 20 * time.Microsecond

// run executes a task body, turning panics into errors.
func (rt *Runtime) run(t *Task, o *op) (err error) {
	t.op = o
	obs := rt.obs
	var t0 time.Time
	if obs != nil {
		t0 = time.Now()
	}
	defer func() {
		if p := recover(); p != nil {
			err = &failure{
				msg:   fmt.Sprintf("dagmpi: rank %d: task %q (#%d) panicked: %v", rt.me, o.name, o.seq, p),
				kind:  ErrTaskFailed,
				cause: panicError{p},
			}
		}
		t.op = nil
		if obs != nil {
			obs.Task(TaskEvent{Rank: rt.me, Worker: t.worker, Seq: o.seq, Name: o.name, Start: t0, End: time.Now(),
				Inline: t.worker == rt.cfg.workers})
		}
	}()
	if o.body != nil {
		if e := o.body(t); e != nil {
			return &failure{
				msg:   fmt.Sprintf("dagmpi: rank %d: task %q (#%d) failed: %v", rt.me, o.name, o.seq, e),
				kind:  ErrTaskFailed,
				cause: e,
			}
		}
	}
	return nil
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprint(p.v) }

// completeLocked finishes o: releases its successors and its replicas.
func (rt *Runtime) completeLocked(o *op) {
	if o.dev != nil && !o.dev.done {
		rt.devEnqueuedLocked(o) // a device task's work is enqueued, not done (device.go)
		return
	}
	for _, s := range o.succ {
		s.npred--
		if s.npred == 0 {
			rt.readyLocked(s)
		}
	}
	clear(o.succ)
	o.succ = o.succ[:0]
	if o.kind == opTask {
		if o.dev == nil {
			rt.stats.tasks++ // a device task was counted when its body returned (devEnqueuedLocked)
		}
		for i := range o.acc {
			rt.untrackLocked(o.acc[i].rep, o)
		}
	} else {
		rt.untrackLocked(o.rep, o)
	}
	o.prev.next = o.next
	o.next.prev = o.prev
	rt.pending--
	rt.progressN++
	// Wake the submitter only when what it waits for happened: waking a
	// goroutine locked to the main thread (as MPI programs' is) on every
	// completion costs two thread hand-offs each time.
	if rt.userWait && (rt.pending <= rt.userBelow || rt.userRep != nil && rt.userRep.refs == 0) {
		rt.userCond.Broadcast()
	}
	rt.freeOpLocked(o)
}

// readyLocked queues an operation whose predecessors are all done.
func (rt *Runtime) readyLocked(o *op) {
	if o.kind == opTask {
		if rt.holdWake {
			// complete decides: the first task made ready, if the queue
			// is empty, waits aside in heldTask, so that running it
			// inline costs no trip through the queue and no hint to
			// the workers.
			rt.held++
			if rt.held == 1 && rt.ready.len() == 0 {
				rt.heldTask = o
				return
			}
			if t := rt.heldTask; t != nil {
				rt.heldTask = nil
				rt.ready.push(t)
			}
			rt.ready.push(o)
			rt.readyHint.Store(int32(rt.ready.len()))
			return
		}
		rt.ready.push(o)
		rt.readyHint.Store(int32(rt.ready.len()))
		if rt.idle > 0 {
			rt.workCond.Signal()
		}
		return
	}
	rt.xfer = append(rt.xfer, o)
	if !rt.inPump {
		rt.kick()
	}
}
