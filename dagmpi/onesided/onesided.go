// Package onesided is a dagmpi.Transport over MPI one-sided communication:
// a message is put (MPI_Put) straight into a slot of the receiver's window
// and announced by a notification word put after it, so the receiver never
// posts anything to the network and the sender needs no matching receive.
//
// # Window layout and protocol
//
// Every rank allocates one window (MPI_Win_allocate, the fast kind) holding,
// for each peer, a ring of Slots slots of SlotBytes data bytes each, plus one
// credit word per peer. Each rank opens a passive-target epoch to all ranks
// (MPI_Win_lock_all) for the Transport's life. A message from s to r is cut
// into chunks of at most SlotBytes; chunk number k of the pair (s, r) goes to
// slot k mod Slots of s's ring in r's window:
//
//  1. s puts the chunk's header (tag, message length, offset) and data, and
//     flushes (MPI_Win_flush_all): the bytes are in r's memory;
//  2. s puts the slot's notification word, k+1, and flushes again.
//
// r polls its own memory after MPI_Win_sync (under MPICH after an
// MPI_Iprobe too: MPICH applies a put it carries as an active message only
// when the target enters its progress engine, and MPI_Win_sync does not):
// when slot k mod Slots of s holds k+1, chunk k has arrived. r copies it out at once, into the matching posted
// receive or, when none is posted yet, into a buffer of the Transport's own
// (MPI's "unexpected message" queue), so a ring never waits for the
// application; then it puts the number of chunks it has consumed from s into
// its credit word in s's window. s sends chunk k only when r has consumed
// chunk k-Slots: window space is bounded, and a fast producer waits for
// credits instead of flooding the receiver.
//
// Matching is MPI's: a receive posted for (src, tag) takes the oldest message
// from src with that tag; a pair's messages arrive in the order they were
// sent. A send completes when its last chunk is flushed.
//
// Control (the consistency check's allreduce, aborting the job) goes through
// a point-to-point dagmpi/p2p Transport on the same communicator.
package onesided

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/mpi"
	"github.com/spmd-go/spmd/rma"
)

// Config sizes a Transport's window.
type Config struct {
	// SlotBytes is the data size of one slot: the largest chunk a message
	// is cut into. Default 64 KiB.
	SlotBytes int
	// Slots is the number of slots per peer (chunks in flight from one
	// sender to one receiver). Default 4.
	Slots int
}

// DefaultConfig is the Config New uses.
var DefaultConfig = Config{SlotBytes: 64 << 10, Slots: 4}

const (
	hdrBytes = 32 // notification word, tag, message length, chunk offset
	offNote  = 0
	offTag   = 8
	offLen   = 16
	offOff   = 24
)

// Transport is a dagmpi.Transport over MPI one-sided communication.
type Transport struct {
	ctl  *p2p.Transport
	win  *rma.Window[byte]
	mem  []byte // this rank's window memory
	rank int
	size int
	cfg  Config
	slot int // bytes of one slot, header included
	ring int // bytes of one peer's ring
	cred int // offset of the credit words

	// Sender side, per destination.
	sendq    [][]*outMsg // messages waiting for or in transmission, FIFO
	sent     []uint64    // chunks put to each destination
	consumed []uint64    // chunks each destination has consumed (credit)

	// Receiver side, per source.
	recvd   []uint64   // chunks received from each source
	credBuf [][]byte   // the 8-byte credit word put to each source
	asm     []*inMsg   // message being assembled from each source
	posted  [][]*inReq // receives posted per source, in posting order
	unexp   [][]*inMsg // unexpected messages per source, in arrival order

	hdr   []byte // scratch: chunk headers put this round
	note  []byte // scratch: notification words put this round
	dirty []bool // credit changed per source this round

	ready  []dagmpi.Completion // completions found outside Progress
	closed bool
}

type outMsg struct {
	buf  []byte
	tag  int
	id   uint64
	off  int // bytes put so far
	last bool
}

type inReq struct {
	buf []byte
	tag int
	id  uint64
}

type inMsg struct {
	src, tag int
	total    int
	got      int
	buf      []byte // the receive's buffer, or the Transport's own
	req      *inReq // matched receive, or nil while unexpected
	direct   bool   // buf is req's buffer
	trunc    bool   // req's buffer is too small: the bytes are dropped
}

var (
	_ dagmpi.Transport  = (*Transport)(nil)
	_ dagmpi.PathNamer  = (*Transport)(nil)
	_ dagmpi.Controller = (*Transport)(nil)
)

// New returns a Transport with DefaultConfig on a duplicate of comm. It is
// collective over comm.
func New(comm *mpi.Comm) (*Transport, error) { return NewConfig(comm, DefaultConfig) }

// NewConfig returns a Transport with the given window sizes on a duplicate
// of comm. It is collective over comm; every rank passes the same cfg.
func NewConfig(comm *mpi.Comm, cfg Config) (*Transport, error) {
	if cfg.SlotBytes < 1 || cfg.Slots < 1 {
		return nil, fmt.Errorf("onesided: Config %+v: SlotBytes and Slots must be at least 1", cfg)
	}
	if cfg.SlotBytes%8 != 0 {
		return nil, fmt.Errorf("onesided: Config %+v: SlotBytes must be a multiple of 8", cfg)
	}
	ctl, err := p2p.New(comm)
	if err != nil {
		return nil, err
	}
	t := &Transport{ctl: ctl, rank: ctl.Rank(), size: ctl.Size(), cfg: cfg}
	t.slot = hdrBytes + cfg.SlotBytes
	t.ring = t.slot * cfg.Slots
	t.cred = t.ring * t.size
	win, err := rma.Allocate[byte](ctl.Comm(), t.cred+8*t.size)
	if err != nil {
		ctl.Close()
		return nil, fmt.Errorf("onesided: allocating the window: %w", err)
	}
	t.win = win
	t.mem = win.Local()
	clear(t.mem)
	// Everyone's memory is zero before anyone puts.
	if err := mpi.Barrier(ctl.Comm()); err != nil {
		return nil, err
	}
	if err := win.LockAll(); err != nil {
		return nil, err
	}
	n := t.size
	t.sendq = make([][]*outMsg, n)
	t.sent = make([]uint64, n)
	t.consumed = make([]uint64, n)
	t.recvd = make([]uint64, n)
	t.credBuf = make([][]byte, n)
	for i := range t.credBuf {
		t.credBuf[i] = make([]byte, 8)
	}
	t.asm = make([]*inMsg, n)
	t.posted = make([][]*inReq, n)
	t.unexp = make([][]*inMsg, n)
	t.dirty = make([]bool, n)
	return t, nil
}

// NewRuntime creates this rank's dagmpi.Runtime over a Transport with cfg
// on a Dup of comm; the Runtime owns the Transport. It is collective.
func NewRuntime(comm *mpi.Comm, cfg Config, opts ...dagmpi.Option) (*dagmpi.Runtime, error) {
	tr, err := NewConfig(comm, cfg)
	if err != nil {
		return nil, err
	}
	return dagmpi.NewOwned(tr, opts...)
}

// Paths implements dagmpi.PathNamer: one path, "rma".
func (t *Transport) Paths() []string { return []string{"rma"} }

// Rank implements dagmpi.Transport.
func (t *Transport) Rank() int { return t.rank }

// Size implements dagmpi.Transport.
func (t *Transport) Size() int { return t.size }

// TagBound implements dagmpi.Transport: the communicator's MPI_TAG_UB + 1,
// though tags here are only words in a header.
func (t *Transport) TagBound() int { return t.ctl.TagBound() }

// Config returns the window sizes.
func (t *Transport) Config() Config { return t.cfg }

func (t *Transport) check(call string, peer, tag int) error {
	switch {
	case t.closed:
		return fmt.Errorf("onesided: %s on rank %d: transport closed", call, t.rank)
	case peer < 0 || peer >= t.size:
		return fmt.Errorf("onesided: %s on rank %d: rank %d outside [0, %d)", call, t.rank, peer, t.size)
	case tag < 0 || tag >= t.TagBound():
		return fmt.Errorf("onesided: %s on rank %d: tag %d outside [0, %d)", call, t.rank, tag, t.TagBound())
	}
	return nil
}

// Send implements dagmpi.Transport: it queues buf for dst and puts what the
// credits allow at once.
func (t *Transport) Send(buf []byte, dst, tag int, id uint64) error {
	if err := t.check("Send", dst, tag); err != nil {
		return err
	}
	if dst == t.rank {
		// To oneself: delivered by a copy, as one chunk.
		if err := t.take(dst, tag, len(buf), 0, buf); err != nil {
			return err
		}
		t.ready = append(t.ready, dagmpi.Completion{ID: id, Bytes: len(buf)})
		return nil
	}
	t.sendq[dst] = append(t.sendq[dst], &outMsg{buf: buf, tag: tag, id: id})
	return t.pump(dst)
}

// Recv implements dagmpi.Transport: it takes the oldest unexpected message
// from (src, tag) if one has arrived, and otherwise waits for the next.
func (t *Transport) Recv(buf []byte, src, tag int, id uint64) error {
	if err := t.check("Recv", src, tag); err != nil {
		return err
	}
	r := &inReq{buf: buf, tag: tag, id: id}
	for i, m := range t.unexp[src] {
		if m.tag != tag {
			continue
		}
		t.unexp[src] = append(t.unexp[src][:i], t.unexp[src][i+1:]...)
		m.req = r
		if m.got == m.total {
			t.finishUnexpected(m)
		}
		// Otherwise the rest of m arrives later and finishes it.
		return nil
	}
	t.posted[src] = append(t.posted[src], r)
	return nil
}

// finishUnexpected delivers a complete message that arrived before its
// receive into the receive's buffer.
func (t *Transport) finishUnexpected(m *inMsg) {
	c := dagmpi.Completion{ID: m.req.id, Bytes: m.total}
	if m.total > len(m.req.buf) {
		c.Err = fmt.Errorf("onesided: rank %d: message of %d bytes from rank %d (tag %d) truncated: receive buffer holds %d", t.rank, m.total, m.src, m.tag, len(m.req.buf))
	} else {
		copy(m.req.buf, m.buf[:m.total])
	}
	t.ready = append(t.ready, c)
}

// pump puts the chunks of dst's queued messages that its credits allow:
// data and headers, a flush, then the notification words and a flush.
func (t *Transport) pump(dst int) error {
	q := t.sendq[dst]
	if len(q) == 0 {
		return nil
	}
	t.hdr = t.hdr[:0]
	t.note = t.note[:0]
	type put struct {
		disp int
		k    uint64
	}
	var puts [8]put
	np := 0
	S := t.cfg.SlotBytes
	for len(q) > 0 && t.sent[dst]-t.consumed[dst] < uint64(t.cfg.Slots) && np < len(puts) {
		m := q[0]
		k := t.sent[dst]
		disp := t.rank*t.ring + int(k%uint64(t.cfg.Slots))*t.slot
		n := min(S, len(m.buf)-m.off)
		t.hdr = binary.LittleEndian.AppendUint64(t.hdr, uint64(m.tag))
		t.hdr = binary.LittleEndian.AppendUint64(t.hdr, uint64(len(m.buf)))
		t.hdr = binary.LittleEndian.AppendUint64(t.hdr, uint64(m.off))
		if n > 0 {
			if err := t.win.Put(m.buf[m.off:m.off+n], dst, disp+hdrBytes); err != nil {
				return t.fail("MPI_Put of data", dst, err)
			}
		}
		m.off += n
		t.sent[dst]++
		puts[np] = put{disp: disp, k: k}
		np++
		if m.off == len(m.buf) {
			m.last = true
			q = q[1:]
		}
	}
	if np == 0 {
		t.sendq[dst] = q
		return nil
	}
	// The header scratch may have been reallocated while appending: put the
	// headers only now that it is final.
	for i := 0; i < np; i++ {
		if err := t.win.Put(t.hdr[i*24:(i+1)*24], dst, puts[i].disp+offTag); err != nil {
			return t.fail("MPI_Put of a header", dst, err)
		}
	}
	if err := t.win.FlushAll(); err != nil {
		return t.fail("MPI_Win_flush_all", dst, err)
	}
	for i := 0; i < np; i++ {
		t.note = binary.LittleEndian.AppendUint64(t.note, puts[i].k+1)
	}
	for i := 0; i < np; i++ {
		if err := t.win.Put(t.note[i*8:(i+1)*8], dst, puts[i].disp+offNote); err != nil {
			return t.fail("MPI_Put of a notification", dst, err)
		}
	}
	if err := t.win.FlushAll(); err != nil {
		return t.fail("MPI_Win_flush_all", dst, err)
	}
	// Messages whose last chunk went out are complete.
	old := t.sendq[dst]
	for _, m := range old[:len(old)-len(q)] {
		if m.last {
			t.ready = append(t.ready, dagmpi.Completion{ID: m.id, Bytes: len(m.buf)})
		}
	}
	clear(old[:len(old)-len(q)])
	t.sendq[dst] = q
	return nil
}

func (t *Transport) fail(what string, peer int, err error) error {
	return fmt.Errorf("onesided: rank %d: %s (peer %d): %w", t.rank, what, peer, err)
}

// Progress implements dagmpi.Transport: it takes in the chunks that have
// arrived, returns credits, reads the credits peers returned, and puts
// what they allow.
func (t *Transport) Progress(out []dagmpi.Completion) ([]dagmpi.Completion, error) {
	if t.closed {
		return out, fmt.Errorf("onesided: Progress on rank %d: transport closed", t.rank)
	}
	if mpi.Implementation == "mpich" {
		// MPICH applies a put that its network module does not carry
		// natively (an active message) only when the target enters the
		// progress engine, which MPI_Win_sync does not: poke it.
		if _, _, err := mpi.Iprobe(t.ctl.Comm(), mpi.AnySource, mpi.AnyTag); err != nil {
			return out, t.fail("MPI_Iprobe (driving MPICH's progress)", t.rank, err)
		}
	}
	if err := t.win.Sync(); err != nil {
		return out, t.fail("MPI_Win_sync", t.rank, err)
	}
	le := binary.LittleEndian
	for s := 0; s < t.size; s++ {
		if s == t.rank {
			continue
		}
		for {
			k := t.recvd[s]
			base := s*t.ring + int(k%uint64(t.cfg.Slots))*t.slot
			if le.Uint64(t.mem[base+offNote:]) != k+1 {
				break
			}
			tag := int(le.Uint64(t.mem[base+offTag:]))
			total := int(le.Uint64(t.mem[base+offLen:]))
			off := int(le.Uint64(t.mem[base+offOff:]))
			if err := t.take(s, tag, total, off, t.mem[base+hdrBytes:base+hdrBytes+min(t.cfg.SlotBytes, total-off)]); err != nil {
				return out, err
			}
			le.PutUint64(t.mem[base+offNote:], 0)
			t.recvd[s]++
			t.dirty[s] = true
		}
	}
	// Return credits.
	any := false
	for s, d := range t.dirty {
		if !d {
			continue
		}
		t.dirty[s] = false
		le.PutUint64(t.credBuf[s], t.recvd[s])
		if err := t.win.Put(t.credBuf[s], s, t.cred+8*t.rank); err != nil {
			return out, t.fail("MPI_Put of a credit", s, err)
		}
		any = true
	}
	if any {
		if err := t.win.FlushAll(); err != nil {
			return out, t.fail("MPI_Win_flush_all", t.rank, err)
		}
	}
	// Read credits and send what they allow.
	for d := 0; d < t.size; d++ {
		if d == t.rank || len(t.sendq[d]) == 0 {
			continue
		}
		t.consumed[d] = le.Uint64(t.mem[t.cred+8*d:])
		if err := t.pump(d); err != nil {
			return out, err
		}
	}
	out = append(out, t.ready...)
	clear(t.ready)
	t.ready = t.ready[:0]
	return out, nil
}

// take consumes one chunk from s: the start of a new message or the next
// piece of the one being assembled.
func (t *Transport) take(s, tag, total, off int, data []byte) error {
	m := t.asm[s]
	if m == nil {
		if off != 0 {
			return fmt.Errorf("onesided: rank %d: chunk at offset %d from rank %d starts no message (protocol error)", t.rank, off, s)
		}
		m = &inMsg{src: s, tag: tag, total: total}
		// The oldest receive posted for (s, tag) takes it.
		for i, r := range t.posted[s] {
			if r.tag == tag {
				t.posted[s] = append(t.posted[s][:i], t.posted[s][i+1:]...)
				m.req = r
				break
			}
		}
		if m.req != nil && total <= len(m.req.buf) {
			m.buf, m.direct = m.req.buf, true
		} else if m.req != nil {
			m.trunc = true
		} else {
			m.buf = make([]byte, total)
			t.unexp[s] = append(t.unexp[s], m)
		}
		t.asm[s] = m
	} else if off != m.got || tag != m.tag || total != m.total {
		return fmt.Errorf("onesided: rank %d: chunk (tag %d, length %d, offset %d) from rank %d does not continue the message (tag %d, length %d, %d bytes so far) (protocol error)",
			t.rank, tag, total, off, s, m.tag, m.total, m.got)
	}
	if !m.trunc {
		copy(m.buf[off:], data)
	}
	m.got += len(data)
	if m.got < m.total {
		return nil
	}
	t.asm[s] = nil
	switch {
	case m.req == nil:
		// Stays in unexp until a receive takes it.
	case m.trunc:
		t.ready = append(t.ready, dagmpi.Completion{ID: m.req.id, Bytes: m.total,
			Err: fmt.Errorf("onesided: rank %d: message of %d bytes from rank %d (tag %d) truncated: receive buffer holds %d", t.rank, m.total, s, tag, len(m.req.buf))})
	case m.direct:
		t.ready = append(t.ready, dagmpi.Completion{ID: m.req.id, Bytes: m.total})
	default:
		// An unexpected message whose receive was posted while it arrived.
		t.finishUnexpected(m)
	}
	return nil
}

// Close ends the epoch and frees the window and the control transport. It
// is collective. Operations still queued or posted are an error.
func (t *Transport) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	var pending int
	for r := range t.sendq {
		pending += len(t.sendq[r]) + len(t.posted[r])
	}
	errs := []error{t.win.UnlockAll(), t.win.Free(), t.ctl.Close()}
	if pending > 0 {
		errs = append(errs, fmt.Errorf("onesided: Close on rank %d: %d sends or receives still pending", t.rank, pending))
	}
	return errors.Join(errs...)
}

// AllreduceUint64 implements dagmpi.Controller through the control
// transport.
func (t *Transport) AllreduceUint64(op dagmpi.ReduceOp, in, out []uint64) error {
	return t.ctl.AllreduceUint64(op, in, out)
}

// Abort implements dagmpi.Controller: it ends the job with MPI_Abort.
func (t *Transport) Abort(msg string) { t.ctl.Abort(msg) }
