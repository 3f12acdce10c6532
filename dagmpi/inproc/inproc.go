// Package inproc is a dagmpi.Transport whose ranks are goroutines of one
// process. It follows MPI's matching rules and nothing stronger: messages
// with the same (source, tag) between two ranks are matched in sending
// order and receives for the same (source, tag) in posting order, while
// everything else may be delayed and reordered. With Config.MaxDelay set,
// each message and each completion is held back by a seeded random delay,
// so tests see the reorderings MPI allows.
//
// A send completes only after the receiver has copied the data (as with a
// rendezvous protocol), so a runtime that touches a send buffer before the
// send completes corrupts the message and trips the race detector.
package inproc

import (
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
)

// Config describes a World.
type Config struct {
	Ranks    int           // number of ranks, at least 1
	TagBound int           // exclusive tag bound; default 32768 (MPI's guaranteed minimum + 1)
	Seed     int64         // seeds the delays
	MaxDelay time.Duration // largest random delay of a message or completion; 0 for none
	// Lend makes the endpoints dagmpi.Lenders of messages of up to Lend
	// bytes (0: none), as the one-sided transport is: a RecvLoan completes
	// with a buffer of the endpoint's (three times in four marked lent, the
	// fourth given away), which must come back through Return exactly once
	// and is then overwritten with 0xA5 bytes, so that a Runtime that
	// reads a loan after giving it back computes visibly wrong results.
	Lend int
}

// World is a set of connected endpoints, one per rank.
type World struct {
	cfg   Config
	eps   []*Endpoint
	abort atomic.Pointer[dagmpi.AbortError]

	collMu  sync.Mutex
	collC   sync.Cond
	collGen uint64
	collN   int
	collOp  dagmpi.ReduceOp
	collAcc []uint64
	collRes []uint64
	collErr error
}

// ErrClosed is returned by calls on a closed Endpoint.
var ErrClosed = errors.New("inproc: endpoint closed")

// NewWorld creates a World.
func NewWorld(cfg Config) (*World, error) {
	if cfg.Ranks < 1 {
		return nil, fmt.Errorf("inproc: NewWorld: %d ranks, need at least 1", cfg.Ranks)
	}
	if cfg.TagBound == 0 {
		cfg.TagBound = 32768
	}
	if cfg.TagBound < 2 {
		return nil, fmt.Errorf("inproc: NewWorld: tag bound %d, need at least 2", cfg.TagBound)
	}
	if cfg.MaxDelay < 0 {
		return nil, fmt.Errorf("inproc: NewWorld: negative MaxDelay %v", cfg.MaxDelay)
	}
	w := &World{cfg: cfg}
	w.collC.L = &w.collMu
	for r := 0; r < cfg.Ranks; r++ {
		w.eps = append(w.eps, &Endpoint{
			w:     w,
			rank:  r,
			rng:   rand.New(rand.NewSource(cfg.Seed*7919 + int64(r))),
			wake:  make(chan struct{}, 1),
			queue: make(map[key]*stream),
		})
	}
	return w, nil
}

// Endpoint returns rank r's Transport.
func (w *World) Endpoint(r int) *Endpoint { return w.eps[r] }

// Transports returns all endpoints as dagmpi.Transports, by rank.
func (w *World) Transports() []dagmpi.Transport {
	t := make([]dagmpi.Transport, len(w.eps))
	for i, e := range w.eps {
		t[i] = e
	}
	return t
}

// Aborted returns the abort that ended the world, or nil.
func (w *World) Aborted() *dagmpi.AbortError { return w.abort.Load() }

type key struct{ src, tag int }

type message struct {
	src, tag int
	buf      []byte
	from     *Endpoint
	id       uint64 // sender's id
	at       time.Time
}

type stream struct {
	msgs []*message
	last time.Time // eligibility of the newest message (keeps the stream FIFO)
}

type recvReq struct {
	src, tag int
	buf      []byte
	id       uint64
	loan     bool // RecvLoan: no buf, at most n bytes
	n        int
}

type completion struct {
	c  dagmpi.Completion
	at time.Time
}

// Endpoint is one rank of a World. Its methods other than Rank, Size,
// TagBound and Wake must be called from one goroutine at a time.
type Endpoint struct {
	w    *World
	rank int
	rng  *rand.Rand // used by the owning goroutine only
	wake chan struct{}

	mu     sync.Mutex
	queue  map[key]*stream // unmatched messages by (source, tag)
	recvs  []recvReq       // posted receives in posting order
	done   []completion    // completions not yet reported
	timer  *time.Timer
	closed bool
	lent   map[*byte]int // outstanding loans: first byte -> length
}

var (
	_ dagmpi.Transport  = (*Endpoint)(nil)
	_ dagmpi.PathNamer  = (*Endpoint)(nil)
	_ dagmpi.Waker      = (*Endpoint)(nil)
	_ dagmpi.Controller = (*Endpoint)(nil)
	_ dagmpi.Spinner    = (*Endpoint)(nil)
	_ dagmpi.Lender     = (*Endpoint)(nil)
)

// Paths implements dagmpi.PathNamer: one path, "inproc".
func (e *Endpoint) Paths() []string { return []string{"inproc"} }

func (e *Endpoint) Rank() int             { return e.rank }
func (e *Endpoint) Size() int             { return len(e.w.eps) }
func (e *Endpoint) TagBound() int         { return e.w.cfg.TagBound }
func (e *Endpoint) Wake() <-chan struct{} { return e.wake }
func (e *Endpoint) notify()               { sendWake(e.wake) }
func (e *Endpoint) delay() time.Duration  { return randDelay(e.rng, e.w.cfg.MaxDelay) }
func sendWake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
func (e *Endpoint) check(call string) error { return e.checkState(call) }

func randDelay(r *rand.Rand, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	// Half of the messages go at once, so that delays reorder rather
	// than merely slow everything down.
	if r.Intn(2) == 0 {
		return 0
	}
	return time.Duration(r.Int63n(int64(max)))
}

func (e *Endpoint) checkState(call string) error {
	if a := e.w.abort.Load(); a != nil {
		return a
	}
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return fmt.Errorf("inproc: %s on rank %d: %w", call, e.rank, ErrClosed)
	}
	return nil
}

func (e *Endpoint) checkPeer(call string, peer, tag int) error {
	if peer < 0 || peer >= len(e.w.eps) {
		return fmt.Errorf("inproc: %s on rank %d: rank %d outside [0, %d)", call, e.rank, peer, len(e.w.eps))
	}
	if tag < 0 || tag >= e.w.cfg.TagBound {
		return fmt.Errorf("inproc: %s on rank %d: tag %d outside [0, %d)", call, e.rank, tag, e.w.cfg.TagBound)
	}
	return nil
}

// Send posts a send; buf is read when the receiver matches it.
func (e *Endpoint) Send(buf []byte, dst, tag int, id uint64) error {
	if err := e.check("Send"); err != nil {
		return err
	}
	if err := e.checkPeer("Send", dst, tag); err != nil {
		return err
	}
	m := &message{src: e.rank, tag: tag, buf: buf, from: e, id: id, at: time.Now().Add(e.delay())}
	d := e.w.eps[dst]
	d.mu.Lock()
	k := key{e.rank, tag}
	s := d.queue[k]
	if s == nil {
		s = &stream{}
		d.queue[k] = s
	}
	if m.at.Before(s.last) {
		m.at = s.last // non-overtaking: never eligible before an earlier message of the stream
	}
	s.last = m.at
	s.msgs = append(s.msgs, m)
	d.mu.Unlock()
	d.notify()
	return nil
}

// Recv posts a receive.
func (e *Endpoint) Recv(buf []byte, src, tag int, id uint64) error {
	if err := e.check("Recv"); err != nil {
		return err
	}
	if err := e.checkPeer("Recv", src, tag); err != nil {
		return err
	}
	e.mu.Lock()
	e.recvs = append(e.recvs, recvReq{src: src, tag: tag, buf: buf, id: id})
	e.mu.Unlock()
	return nil
}

// Lends implements dagmpi.Lender: messages of 1 to Config.Lend bytes.
func (e *Endpoint) Lends(n int) bool { return n > 0 && n <= e.w.cfg.Lend }

// RecvLoan implements dagmpi.Lender.
func (e *Endpoint) RecvLoan(n, src, tag int, id uint64) error {
	if err := e.check("RecvLoan"); err != nil {
		return err
	}
	if err := e.checkPeer("RecvLoan", src, tag); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("inproc: RecvLoan on rank %d: negative length %d", e.rank, n)
	}
	e.mu.Lock()
	e.recvs = append(e.recvs, recvReq{src: src, tag: tag, id: id, loan: true, n: n})
	e.mu.Unlock()
	return nil
}

// Return implements dagmpi.Lender: it checks that buf is an outstanding
// loan and poisons it.
func (e *Endpoint) Return(buf []byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if len(buf) == 0 || e.lent[&buf[0]] != len(buf) {
		panic(fmt.Sprintf("inproc: Return on rank %d of a %d-byte buffer that is not an outstanding loan", e.rank, len(buf)))
	}
	delete(e.lent, &buf[0])
	for i := range buf {
		buf[i] = 0xA5
	}
}

// Loans returns the number of outstanding loans.
func (e *Endpoint) Loans() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.lent)
}

type sendDone struct {
	to *Endpoint
	c  dagmpi.Completion
}

// Spin implements dagmpi.Spinner: Progress, repeated (yielding the
// processor between calls) while nothing completes, for up to d or until
// attn is nonzero.
func (e *Endpoint) Spin(out []dagmpi.Completion, d time.Duration, attn *atomic.Uint32) ([]dagmpi.Completion, error) {
	n := len(out)
	t0 := time.Now()
	for {
		var err error
		if out, err = e.Progress(out); err != nil || len(out) > n {
			return out, err
		}
		if attn.Load() != 0 || time.Since(t0) >= d {
			return out, nil
		}
		runtime.Gosched()
	}
}

// Progress matches eligible messages with posted receives and reports the
// completions whose delay has passed.
func (e *Endpoint) Progress(out []dagmpi.Completion) ([]dagmpi.Completion, error) {
	if err := e.check("Progress"); err != nil {
		return out, err
	}
	now := time.Now()
	var sends []sendDone
	var next time.Time
	e.mu.Lock()
	// Match in posting order. A receive whose stream head is not yet
	// eligible blocks later receives of the same stream only.
	kept := e.recvs[:0]
	for _, r := range e.recvs {
		s := e.queue[key{r.src, r.tag}]
		if s == nil || len(s.msgs) == 0 || s.msgs[0].at.After(now) {
			if s != nil && len(s.msgs) > 0 && (next.IsZero() || s.msgs[0].at.Before(next)) {
				next = s.msgs[0].at
			}
			kept = append(kept, r)
			continue
		}
		m := s.msgs[0]
		s.msgs[0] = nil
		s.msgs = s.msgs[1:]
		var c dagmpi.Completion
		if r.loan {
			c = e.lendLocked(r, m)
		} else {
			n := copy(r.buf, m.buf)
			c = dagmpi.Completion{ID: r.id, Bytes: n}
			if len(m.buf) > len(r.buf) {
				c.Err = fmt.Errorf("inproc: rank %d: message of %d bytes from rank %d (tag %d) truncated to a %d-byte receive",
					e.rank, len(m.buf), m.src, m.tag, len(r.buf))
			}
		}
		e.done = append(e.done, completion{c: c, at: now.Add(e.delay())})
		sends = append(sends, sendDone{to: m.from, c: dagmpi.Completion{ID: m.id, Bytes: len(m.buf)}})
	}
	clear(e.recvs[len(kept):])
	e.recvs = kept
	// Report due completions, keep the others.
	keep := e.done[:0]
	for _, c := range e.done {
		if c.at.After(now) {
			if next.IsZero() || c.at.Before(next) {
				next = c.at
			}
			keep = append(keep, c)
			continue
		}
		out = append(out, c.c)
	}
	clear(e.done[len(keep):])
	e.done = keep
	if !next.IsZero() {
		d := next.Sub(now)
		if e.timer == nil {
			e.timer = time.AfterFunc(d, e.notify)
		} else {
			e.timer.Reset(d)
		}
	}
	e.mu.Unlock()
	for _, s := range sends {
		d := s.to
		at := now.Add(d.delayLocked())
		d.mu.Lock()
		d.done = append(d.done, completion{c: s.c, at: at})
		d.mu.Unlock()
		d.notify()
	}
	return out, nil
}

// lendLocked completes RecvLoan r with message m: a copy of it, lent
// three times in four.
func (e *Endpoint) lendLocked(r recvReq, m *message) dagmpi.Completion {
	if len(m.buf) > r.n {
		return dagmpi.Completion{ID: r.id, Bytes: len(m.buf), Err: fmt.Errorf("inproc: rank %d: message of %d bytes from rank %d (tag %d) truncated: the loan receive takes %d",
			e.rank, len(m.buf), m.src, m.tag, r.n)}
	}
	b := append(make([]byte, 0, len(m.buf)), m.buf...)
	c := dagmpi.Completion{ID: r.id, Bytes: len(b), Buf: b}
	if len(b) > 0 && e.rng.Intn(4) != 0 {
		if e.lent == nil {
			e.lent = make(map[*byte]int)
		}
		e.lent[&b[0]] = len(b)
		c.Loaned = true
	}
	return c
}

// delayLocked draws a delay for a completion of another endpoint; it uses
// the world's seed but not the other endpoint's generator (which belongs
// to its goroutine).
func (d *Endpoint) delayLocked() time.Duration {
	if d.w.cfg.MaxDelay <= 0 {
		return 0
	}
	return time.Duration(rand.Int63n(int64(d.w.cfg.MaxDelay)))
}

// Close releases the endpoint. Pending operations are dropped.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.timer != nil {
		e.timer.Stop()
	}
	if n := len(e.lent); n > 0 {
		return fmt.Errorf("inproc: Close on rank %d: %d loans never given back", e.rank, n)
	}
	return nil
}

// AllreduceUint64 implements dagmpi.Controller.
func (e *Endpoint) AllreduceUint64(op dagmpi.ReduceOp, in, out []uint64) error {
	if err := e.check("AllreduceUint64"); err != nil {
		return err
	}
	if len(in) != len(out) {
		return fmt.Errorf("inproc: AllreduceUint64 on rank %d: len(in) %d != len(out) %d", e.rank, len(in), len(out))
	}
	if len(in) > 0 && &in[0] == &out[0] {
		// As MPI does (MPI_ERR_BUFFER), so that in-process tests catch it.
		return fmt.Errorf("inproc: AllreduceUint64 on rank %d: in and out are the same slice", e.rank)
	}
	w := e.w
	w.collMu.Lock()
	defer w.collMu.Unlock()
	if w.collN == 0 {
		w.collOp = op
		w.collAcc = append(w.collAcc[:0], in...)
		w.collErr = nil
	} else {
		if len(in) != len(w.collAcc) || op != w.collOp {
			w.collErr = fmt.Errorf("inproc: AllreduceUint64: ranks disagree on the length or operation (rank %d: %d values, op %d)", e.rank, len(in), op)
		} else {
			for i, v := range in {
				switch op {
				case dagmpi.OpSum:
					w.collAcc[i] += v
				case dagmpi.OpMax:
					w.collAcc[i] = max(w.collAcc[i], v)
				case dagmpi.OpMin:
					w.collAcc[i] = min(w.collAcc[i], v)
				}
			}
		}
	}
	w.collN++
	gen := w.collGen
	if w.collN == len(w.eps) {
		w.collRes = append(w.collRes[:0], w.collAcc...)
		w.collN = 0
		w.collGen++
		w.collC.Broadcast()
	} else {
		for w.collGen == gen && w.abort.Load() == nil {
			w.collC.Wait()
		}
		if a := w.abort.Load(); a != nil && w.collGen == gen {
			return a
		}
	}
	if w.collErr != nil {
		return w.collErr
	}
	copy(out, w.collRes)
	return nil
}

// Abort implements dagmpi.Controller: every endpoint's calls fail from now
// on with a *dagmpi.AbortError.
func (e *Endpoint) Abort(msg string) {
	w := e.w
	if !w.abort.CompareAndSwap(nil, &dagmpi.AbortError{Rank: e.rank, Msg: msg}) {
		return
	}
	w.collMu.Lock()
	w.collC.Broadcast()
	w.collMu.Unlock()
	for _, ep := range w.eps {
		ep.notify()
	}
}
