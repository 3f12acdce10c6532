package dagmpi

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// posted is one operation lent to the Transport.
type posted struct {
	o  *op
	t0 time.Time
}

// pump is the progress goroutine's private state.
type pump struct {
	rt         *Runtime
	table      []posted // by Completion.ID
	freeIDs    []uint64
	out        int   // operations lent to the Transport
	inflight   int64 // bytes of lent receives
	recvs      int   // lent receives
	recvQ      []*op // receives in submission order, not yet posted
	recvHead   int
	sendLow    []uint64              // per destination: every send below was posted
	ahead      []map[uint64]struct{} // per destination: sends posted at or above sendLow
	blocked    []*op                 // sends waiting for an earlier send of the same tag
	commT0     time.Time             // start of the current stretch with out > 0
	ops        []*op                 // scratch for complete
	now        []*op                 // scratch for complete: what an inline task made ready
	task       Task                  // for task bodies run inline
	epoch      time.Time             // origin of noInline
	noInline   time.Duration         // no inline run before epoch + noInline
	dev        devPump               // transfers of device replicas (device.go)
	sentInline bool                  // complete posted what an inline task produced
}

func (rt *Runtime) progress() {
	defer rt.wg.Done()
	defer close(rt.progEnd)
	if rt.cfg.lockThread {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	p := &pump{
		rt:      rt,
		sendLow: make([]uint64, rt.size),
		ahead:   make([]map[uint64]struct{}, rt.size),
		task:    Task{rt: rt, worker: rt.cfg.workers},
		epoch:   time.Now(),
	}
	var (
		done   []Completion
		batch  []*op
		active = time.Now() // last time something happened
		stale  bool         // something happened since active was read
		hot    bool         // the last clock read found the spin not over
		polls  uint         // idle polls since the clock was last read
		lastN  uint64
		lastT  = time.Now()
	)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	tick := time.Hour
	if rt.cfg.watchdog > 0 {
		tick = rt.cfg.watchdog / 4
		if tick > 100*time.Millisecond {
			tick = 100 * time.Millisecond
		}
		if tick < time.Millisecond {
			tick = time.Millisecond
		}
	}
	for {
		rt.attn.Store(0) // before looking: a later kick ends the next Spin
		rt.mu.Lock()
		if rt.err != nil || rt.stopping {
			rt.mu.Unlock()
			return
		}
		batch = append(batch[:0], rt.xfer...)
		clear(rt.xfer)
		rt.xfer = rt.xfer[:0]
		pn, pend := rt.progressN, rt.pending
		allBusy := rt.busy >= rt.cfg.workers
		rt.mu.Unlock()

		worked := len(batch) > 0
		err := p.take(batch)
		clear(batch) // freed operations are not cleared (freeOpLocked): hold none
		if err != nil {
			rt.failTransport(err)
			return
		}
		if err := p.postRecvs(); err != nil {
			rt.failTransport(err)
			return
		}
		if rt.devBusy() {
			if err := p.pollTasks(&worked); err != nil { // device.go: device tasks whose events completed
				rt.failTransport(err)
				return
			}
		}
		if p.out > 0 {
			// Spinning, and no worker needs this thread: poll inside the
			// transport until something completes, attn is set, or the
			// slice ends.
			spin := rt.spinner != nil && hot && rt.readyHint.Load() == 0
			var err error
			if done, err = p.poll(done, spin, &worked); err != nil {
				rt.failTransport(err)
				return
			}
			for len(done) > 0 {
				if err := p.complete(done); err != nil {
					rt.mu.Lock()
					rt.failLocked(err, true)
					rt.mu.Unlock()
					return
				}
				worked = true
				pn++ // completions count as progress before the next look at progressN
				if !p.sentInline {
					break
				}
				// An inline task's send usually completes at once (an
				// eager message): finish it in this turn rather than
				// the next, which would first re-post receives, and
				// lengthen the work between this rank's send and its
				// next poll, when the reply may already be there.
				p.sentInline = false
				if done, err = p.poll(done, false, &worked); err != nil {
					rt.failTransport(err)
					return
				}
			}
		}

		// Read the clock (for the spin's end and the watchdog) only every
		// spinClockPolls idle polls, or workClockPolls busy ones, and on the
		// first idle poll after work: it costs about as much as a poll's own
		// bookkeeping, and a hop of a remote dependency chain should not pay
		// for it.
		polls++
		if worked {
			stale = true
			if polls%workClockPolls != 0 {
				continue
			}
		} else if p.out > 0 && hot && !stale && polls%spinClockPolls != 0 {
			rt.spinYield()
			continue
		}
		now := time.Now()
		if stale {
			active, stale = now, false
		}
		if rt.cfg.watchdog > 0 {
			if pn != lastN || pend == 0 {
				lastN, lastT = pn, now
			} else if now.Sub(lastT) > rt.cfg.watchdog {
				rt.mu.Lock()
				msg := rt.stallLocked(p, now.Sub(lastT))
				rt.failLocked(&failure{msg: msg, kind: ErrNoProgress}, true)
				rt.mu.Unlock()
				return
			}
		}
		if worked {
			continue
		}

		// While transfers are pending, poll hot for a while after the last
		// activity (a reply often comes within microseconds, and Go timers
		// below a millisecond sleep about a millisecond), then sleep until
		// woken or the poll interval ends.
		hot = p.out > 0 && now.Sub(active) < rt.cfg.spin
		if p.out > 0 {
			if allBusy && rt.waker == nil && !rt.devBusy() {
				// Every worker is running a task body: a message that
				// arrives now could not be used before one of them
				// finishes, and polling would take the CPU from them
				// (under mpirun a rank is bound to one core). Sleep for
				// the poll interval, or until a worker runs out of work
				// or a finished task queues a transfer (kick).
				hot = false // no Spin slices either
				rt.busySleep.Store(true)
				timer.Reset(rt.cfg.poll)
				select {
				case <-rt.wake:
					active = time.Now()
				case <-timer.C:
				}
				rt.busySleep.Store(false)
				stopTimer(timer)
				continue
			}
			if hot {
				rt.spinYield()
				continue
			}
			sleep := rt.cfg.poll
			if rt.waker != nil && !rt.devBusy() {
				sleep = tick
			} else if now.Sub(active) < rt.cfg.spin+dozeWindow {
				// Doze: short OS sleeps between polls. A Go timer would
				// sleep a millisecond, longer than the spin, and two ranks
				// waiting on each other would then lose a millisecond per
				// message, each waking just after the other gave up.
				select {
				case <-rt.wake:
					active = time.Now()
				default:
					dozeSleep(dozeInterval)
				}
				continue
			}
			timer.Reset(sleep)
			select {
			case <-rt.wake:
				active = time.Now()
			case <-rt.waker:
				active = time.Now()
			case <-timer.C:
			}
			stopTimer(timer)
			continue
		}
		if rt.devBusy() {
			p.devIdle() // device.go: only device work is under way; poll its events soon
			continue
		}
		timer.Reset(tick)
		select {
		case <-rt.wake:
		case <-rt.waker: // nil when absent: blocks forever
		case req := <-rt.ctlReq:
			req.reply <- rt.ctrl.AllreduceUint64(req.op, req.in, req.out)
		case <-timer.C:
		}
		stopTimer(timer)
		active = time.Now()
	}
}

// spinYield is one idle turn of the hot spin: it drops a pending Waker
// signal (the next poll sees what it announced) and yields the P.
func (rt *Runtime) spinYield() {
	if rt.waker != nil {
		select {
		case <-rt.waker:
		default:
		}
	}
	gosched()
}

// After the spin, the progress goroutine dozes for dozeWindow, polling every
// dozeInterval (an OS sleep, about 100µs on a VM: cheap, and shorter than
// the spin), before it sleeps on Go timers.
const (
	dozeWindow   = 20 * time.Millisecond
	dozeInterval = 50 * time.Microsecond
)

// spinClockPolls and workClockPolls are how many idle and busy loop
// iterations the progress goroutine makes per clock read.
const (
	spinClockPolls = 8
	workClockPolls = 64
)

// spinSlice is the longest Spinner.Spin call: between two, the progress
// goroutine yields to the Go scheduler (which, with one P per rank as under
// mpirun, is how the submitter and the workers get the thread).
const spinSlice = 5 * time.Microsecond

// poll asks the Transport what completed (Spin if spin, else Progress),
// and the device pump which chunks of device transfers did.
func (p *pump) poll(done []Completion, spin bool, worked *bool) ([]Completion, error) {
	rt := p.rt
	var err error
	if spin {
		done, err = rt.spinner.Spin(done[:0], spinSlice, &rt.attn)
	} else {
		done, err = rt.tr.Progress(done[:0])
	}
	if err == nil && rt.devBusy() {
		done, err = p.devPoll(done, worked) // device.go: chunks of device transfers
	}
	return done, err
}

func stopTimer(t *time.Timer) {
	if !t.Stop() {
		select {
		case <-t.C:
		default:
		}
	}
}

func (rt *Runtime) failTransport(err error) {
	var ae *AbortError
	local := !errors.As(err, &ae) && !errors.Is(err, ErrAborted)
	var e error = err
	if local {
		e = &failure{msg: fmt.Sprintf("dagmpi: rank %d: transport: %v", rt.me, err), kind: ErrTransport, cause: err}
	}
	rt.mu.Lock()
	rt.failLocked(e, local)
	rt.mu.Unlock()
}

func (p *pump) newID(o *op) uint64 {
	var id uint64
	if n := len(p.freeIDs); n > 0 {
		id = p.freeIDs[n-1]
		p.freeIDs = p.freeIDs[:n-1]
	} else {
		id = uint64(len(p.table))
		p.table = append(p.table, posted{})
	}
	p.table[id].o = o
	if p.rt.obs != nil {
		p.table[id].t0 = time.Now()
	}
	if p.out == 0 {
		p.commT0 = time.Now()
	}
	p.out++
	o.posted = true
	return id
}

// take queues the receives and posts the sends of a batch taken from
// rt.xfer.
func (p *pump) take(batch []*op) error {
	for _, o := range batch {
		if o.kind == opRecv {
			p.recvQ = append(p.recvQ, o)
		} else if err := p.trySend(o); err != nil {
			return err
		}
	}
	return nil
}

// trySend posts o unless an earlier send to the same rank with the same tag
// is still unposted: tags repeat every TagBound transfers of a pair, and
// MPI matches equal tags in posting order, so sends that share a tag must
// be posted in transfer order (receives always are).
func (p *pump) trySend(o *op) error {
	d := o.peer
	if o.pseq >= p.sendLow[d]+p.rt.tags {
		p.blocked = append(p.blocked, o)
		return nil
	}
	if err := p.postSend(o); err != nil {
		return err
	}
	// Posting may have unblocked others.
	for again := true; again && len(p.blocked) > 0; {
		again = false
		for i := 0; i < len(p.blocked); i++ {
			b := p.blocked[i]
			if b.pseq < p.sendLow[b.peer]+p.rt.tags {
				n := len(p.blocked) - 1
				copy(p.blocked[i:], p.blocked[i+1:])
				p.blocked[n] = nil
				p.blocked = p.blocked[:n]
				if err := p.postSend(b); err != nil {
					return err
				}
				again = true
				break
			}
		}
	}
	return nil
}

func (p *pump) postSend(o *op) error {
	d := o.peer
	id := p.newID(o)
	tag := int(o.pseq % p.rt.tags)
	var err error
	if o.rep.h.dev != nil || len(p.dev.keys) > 0 {
		err = p.devSend(o, d, tag, id) // device.go: device data, or behind a device transfer with this tag
	} else {
		err = p.rt.tr.Send(o.rep.buf, d, tag, id)
	}
	if err != nil {
		return fmt.Errorf("send of data %d to rank %d, tag %d: %w", o.rep.h.id, d, tag, err)
	}
	if o.pseq == p.sendLow[d] {
		p.sendLow[d]++
		for m := p.ahead[d]; len(m) > 0; p.sendLow[d]++ {
			if _, ok := m[p.sendLow[d]]; !ok {
				break
			}
			delete(m, p.sendLow[d])
		}
	} else {
		if p.ahead[d] == nil {
			p.ahead[d] = make(map[uint64]struct{})
		}
		p.ahead[d][o.pseq] = struct{}{}
	}
	return nil
}

// postRecvs posts queued receives in order while the byte bound allows.
func (p *pump) postRecvs() error {
	for p.recvHead < len(p.recvQ) {
		if p.inflight > 0 && p.recvs >= p.rt.cfg.maxRecvs {
			// Decided without reading the operation, which was submitted
			// long ago and is not in cache: after each completion this
			// check runs between the rank's send and its next poll.
			break
		}
		o := p.recvQ[p.recvHead]
		n := int64(o.rep.h.bytes)
		if p.inflight > 0 && p.inflight+n > p.rt.cfg.maxBytes {
			break
		}
		p.recvs++
		p.recvQ[p.recvHead] = nil
		p.recvHead++
		p.inflight += n
		id := p.newID(o)
		tag := int(o.pseq % p.rt.tags)
		var err error
		switch l := p.rt.lender; {
		case o.rep.h.dev != nil || len(p.dev.keys) > 0:
			o.rep.buf = o.rep.h.alloc()
			err = p.devRecv(o, tag, id) // device.go: device data, or behind a device transfer with this tag
		case l != nil && l.Lends(int(n)):
			// The Transport supplies the buffer at completion.
			err = l.RecvLoan(int(n), o.peer, tag, id)
		default:
			o.rep.buf = o.rep.h.alloc()
			err = p.rt.tr.Recv(o.rep.buf, o.peer, tag, id)
		}
		if err != nil {
			return fmt.Errorf("receive of data %d from rank %d, tag %d: %w", o.rep.h.id, o.peer, tag, err)
		}
	}
	if p.recvHead == len(p.recvQ) {
		p.recvQ = p.recvQ[:0]
		p.recvHead = 0
	}
	return nil
}

// complete finishes the operations the Transport reported.
func (p *pump) complete(done []Completion) error {
	rt := p.rt
	var t1 time.Time
	if rt.obs != nil {
		t1 = time.Now()
	}
	var (
		firstErr error
		n        tally
	)
	ops := p.ops[:0]
	for i, c := range done {
		if c.ID >= uint64(len(p.table)) || p.table[c.ID].o == nil {
			n.add(rt)
			p.keepLoans(ops, done[i:])
			return &failure{msg: fmt.Sprintf("dagmpi: rank %d: transport reported unknown operation id %d", rt.me, c.ID), kind: ErrTransport}
		}
		e := p.table[c.ID]
		p.table[c.ID] = posted{}
		p.freeIDs = append(p.freeIDs, c.ID)
		p.out--
		o := e.o
		want := o.rep.h.bytes
		if o.kind == opRecv {
			p.inflight -= int64(want)
			p.recvs--
			if c.Buf != nil {
				// A RecvLoan: the bytes are where the Transport says. (The
				// receive's reference keeps the replica from being dropped
				// until completeLocked, which registers the loan.)
				if c.Err == nil && len(c.Buf) == want {
					o.rep.buf, o.rep.loan = c.Buf, c.Loaned
					if c.Loaned {
						n.lent++
					}
				} else if c.Loaned {
					rt.lender.Return(c.Buf)
				}
			}
			if c.Err == nil && c.Bytes == want && o.rep.buf == nil && firstErr == nil {
				firstErr = &failure{msg: fmt.Sprintf("dagmpi: rank %d: transport completed the receive of data %d from rank %d (%d bytes) with a %d-byte buffer",
					rt.me, o.rep.h.id, o.peer, want, len(c.Buf)), kind: ErrTransport}
			}
			n.recvs++
			n.bytesRecv += int64(c.Bytes)
		} else {
			n.sends++
			n.bytesSent += int64(want)
			path := int(c.Path)
			if o.fwd {
				path = MaxPaths
			} else if path >= len(rt.stats.names) {
				n.add(rt)
				p.keepLoans(ops, done[i+1:])
				return &failure{msg: fmt.Sprintf("dagmpi: rank %d: transport reported path %d for the send of data %d to rank %d, but names %d paths",
					rt.me, c.Path, o.rep.h.id, o.peer, len(rt.stats.names)), kind: ErrTransport}
			}
			n.paths[path].sends++
			n.paths[path].bytes += int64(want)
		}
		if firstErr == nil && (c.Err != nil || (o.kind == opRecv && c.Bytes != want)) {
			dir, prep := "receive", "from"
			if o.kind == opSend {
				dir, prep = "send", "to"
			}
			why := fmt.Sprintf("got %d bytes, want %d (do the ranks submit the same graph?)", c.Bytes, want)
			if c.Err != nil {
				why = c.Err.Error()
			}
			firstErr = &failure{
				msg: fmt.Sprintf("dagmpi: rank %d: %s of data %d %s rank %d (tag %d, transfer %d) for task %q (#%d): %s",
					rt.me, dir, o.rep.h.id, prep, o.peer, o.pseq%rt.tags, o.pseq, o.name, o.seq, why),
				kind:  ErrTransport,
				cause: c.Err,
			}
		}
		if rt.obs != nil {
			rt.obs.Transfer(TransferEvent{Rank: rt.me, Peer: o.peer, Send: o.kind == opSend, Data: o.rep.h.id,
				Seq: o.pseq, Bytes: want, Task: o.seq, Start: e.t0, End: t1})
		}
		ops = append(ops, o)
	}
	if p.out == 0 {
		rt.stats.comm.Add(int64(time.Since(p.commT0)))
	}
	if firstErr != nil {
		n.add(rt)
		p.keepLoans(ops, nil)
		return firstErr
	}
	rt.mu.Lock()
	n.addLocked(&rt.stats)
	rt.inPump = true // what completes here needs no kick: this goroutine looks at rt.xfer next
	// Sends first: a task that a send's completion makes ready (it
	// overwrites the data sent) goes to a worker. Only arrivals make tasks
	// eligible to run inline; running producers inline would let a rank
	// outrun its consumers, whose MPI then queues (and searches) ever more
	// unexpected messages.
	for _, o := range ops {
		if o.kind == opSend {
			rt.completeLocked(o)
		}
	}
	rt.holdWake, rt.held = true, 0
	for _, o := range ops {
		if o.kind == opRecv {
			if o.rep.loan {
				rt.loans[o.rep] = struct{}{}
			}
			rt.completeLocked(o)
		}
	}
	rt.holdWake = false
	clear(ops)
	p.ops = ops[:0]
	held := rt.held
	inlined := false
	if o := rt.heldTask; o != nil {
		// The one task the arrivals made ready, with the queue empty.
		rt.heldTask = nil
		if inlined = p.inlineLocked(o); inlined {
			held--
		} else {
			rt.ready.push(o)
			rt.readyHint.Store(int32(rt.ready.len()))
		}
	}
	for ; held > 0 && rt.idle > 0; held-- {
		rt.workCond.Signal()
	}
	var now []*op
	if inlined && len(rt.xfer) > 0 {
		// Post what the inline task produced before anything else: its
		// sends are the next hop of a remote dependency.
		now = append(p.now[:0], rt.xfer...)
		clear(rt.xfer)
		rt.xfer = rt.xfer[:0]
	}
	rt.inPump = false
	rt.mu.Unlock()
	err := p.take(now)
	if len(now) > 0 {
		p.sentInline = true
	}
	clear(now)
	p.now = now[:0]
	if err != nil {
		rt.failTransport(err) // first: the caller's failLocked is then a no-op
	}
	return err
}

// tally is what one complete call adds to the counters, gathered before it
// takes the lock and added under it (the counters are guarded by rt.mu).
type tally struct {
	recvs, lent, bytesRecv, sends, bytesSent int64
	paths                                    [MaxPaths + 1]pathCounter
}

func (n *tally) addLocked(st *counters) {
	st.recvs += n.recvs
	st.recvsLent += n.lent
	st.bytesRecv += n.bytesRecv
	if n.sends > 0 {
		st.sends += n.sends
		st.bytesSent += n.bytesSent
		for i := range st.paths {
			st.paths[i].sends += n.paths[i].sends
			st.paths[i].bytes += n.paths[i].bytes
		}
	}
}

// add is addLocked for complete's early returns, which do not hold rt.mu.
func (n *tally) add(rt *Runtime) {
	rt.mu.Lock()
	n.addLocked(&rt.stats)
	rt.mu.Unlock()
}

// keepLoans is for complete stopping early on an error: it registers the
// loans of the receives in ops, so that Close gives them back, and gives
// back at once those of the completions in rest, not looked at.
func (p *pump) keepLoans(ops []*op, rest []Completion) {
	rt := p.rt
	if rt.lender == nil {
		return
	}
	rt.mu.Lock()
	for _, o := range ops {
		if o.kind == opRecv && o.rep.loan {
			rt.loans[o.rep] = struct{}{}
		}
	}
	rt.mu.Unlock()
	for _, c := range rest {
		if c.Loaned {
			rt.lender.Return(c.Buf)
		}
	}
}

// inlineLocked runs o, the one task ready (just made ready by an arrival,
// and not queued), on the progress goroutine (see WithInline) if no worker
// is running a task, and reports whether it did.
// It is called with rt.mu held and rt.inPump set, and returns so.
func (p *pump) inlineLocked(o *op) bool {
	rt := p.rt
	if rt.cfg.inline == 0 || rt.busy > 0 || rt.ready.len() != 0 || rt.stopping || rt.err != nil {
		return false
	}
	// Durations since epoch read only the monotonic clock: half the cost
	// of time.Now, on the path of every remote dependency.
	t0 := time.Since(p.epoch)
	if t0 < p.noInline {
		return false
	}
	o.running = rt.cfg.workers + 1
	rt.inPump = false // others take the lock while the body runs
	rt.mu.Unlock()

	err := rt.run(&p.task, o)
	if d := time.Since(p.epoch) - t0; d > rt.cfg.inline {
		p.noInline = t0 + 101*d
	}

	rt.mu.Lock()
	rt.inPump = true
	if err != nil {
		rt.failLocked(err, true)
	}
	rt.completeLocked(o)
	return true
}

// stallLocked describes what this rank waits for.
func (rt *Runtime) stallLocked(p *pump, d time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dagmpi: rank %d: %v: nothing finished for %v; %d operations pending", rt.me,
		ErrNoProgress.Error()[len("dagmpi: "):], d.Round(time.Millisecond), rt.pending)
	n := 0
	for o := rt.pendHead.prev; o != &rt.pendHead && n < 8; o = o.prev {
		n++
		b.WriteString("\n\t")
		switch o.kind {
		case opTask:
			fmt.Fprintf(&b, "task %q (#%d) ", o.name, o.seq)
			switch {
			case o.dev != nil && o.dev.enqueued: // device.go
				b.WriteString(o.dev.stalled())
			case o.running > rt.cfg.workers:
				b.WriteString("running on the progress goroutine")
			case o.running > 0:
				fmt.Fprintf(&b, "running on worker %d", o.running-1)
			case o.npred > 0:
				fmt.Fprintf(&b, "waiting for %d earlier operations", o.npred)
			default:
				b.WriteString("ready, waiting for a worker")
			}
		default:
			dir, prep := "receive", "from"
			if o.kind == opSend {
				dir, prep = "send", "to"
			}
			state := "not yet posted"
			if o.posted {
				state = "posted, not complete"
			} else if o.npred > 0 {
				state = "waiting for its data to be produced"
			}
			fmt.Fprintf(&b, "%s of data %d %s rank %d (tag %d, transfer %d) for task %q (#%d): %s",
				dir, o.rep.h.id, prep, o.peer, o.pseq%rt.tags, o.pseq, o.name, o.seq, state)
		}
	}
	if rt.pending > n {
		fmt.Fprintf(&b, "\n\t... and %d more", rt.pending-n)
	}
	return b.String()
}
