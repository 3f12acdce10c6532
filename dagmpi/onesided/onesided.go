// Package onesided is a dagmpi.Transport over MPI one-sided communication:
// a message is put (MPI_Put) straight into a slot of the receiver's window
// and announced by a notification word put after it, so the receiver never
// posts anything to the network and the sender needs no matching receive.
//
// # Window layout and protocol
//
// Every rank allocates one window (MPI_Win_allocate, the fast kind) holding,
// for each peer, Slots slots of SlotBytes data bytes each, plus, for each
// peer, one free counter per slot. Each rank opens a passive-target epoch to
// all ranks (MPI_Win_lock_all) for the Transport's life. A message from s to
// r is cut into chunks of at most SlotBytes; chunk number k of the pair
// (s, r) goes to a slot of s's in r's window that r has freed:
//
//  1. s puts the chunk's header (tag, message length, offset) and data, and
//     flushes (MPI_Win_flush_all): the bytes are in r's memory;
//  2. s puts the slot's notification word, k+1, and flushes again.
//
// r polls its own memory after MPI_Win_sync (under MPICH after an
// MPI_Iprobe too: MPICH applies a put it carries as an active message only
// when the target enters its progress engine, and MPI_Win_sync does not):
// when one of s's slots holds k+1, chunk k has arrived. r takes it at once:
// into the matching posted receive, or, when none is posted yet, into a
// buffer of the Transport's own (MPI's "unexpected message" queue), so the
// slots never wait for the application. Then it frees the slot: it counts
// one more use of it in the slot's free counter in s's window. s puts into a
// slot only when r has freed it as often as s has used it: window space is
// bounded, and a fast producer waits for free slots instead of flooding the
// receiver.
//
// # Loans
//
// The Transport is a dagmpi.Lender: a receive posted with RecvLoan, of a
// message that fits one slot, completes with the slot itself lent to the
// Runtime instead of a copy of it; the slot is freed when the Runtime gives
// it back (Return). At most Slots-2 slots per sender are lent at once, so at
// least two keep turning however long the Runtime keeps its loans; a message
// that arrives beyond that bound is copied out as usual.
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
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/mpi"
	"github.com/spmd-go/spmd/rma"
)

// Config sizes a Transport's window.
type Config struct {
	// SlotBytes is the data size of one slot: the largest chunk a message
	// is cut into, and the largest message lent (dagmpi.Lender). Default
	// 64 KiB.
	SlotBytes int
	// Slots is the number of slots per peer (chunks in flight from one
	// sender to one receiver). Default 4; at least 3 for loans.
	Slots int
}

// DefaultConfig is the Config New uses.
var DefaultConfig = Config{SlotBytes: 64 << 10, Slots: 4}

// WindowBytes returns the size of the window each rank allocates (MPI
// memory, shared memory between the ranks of a node) for a communicator of
// the given size: Slots slots of SlotBytes plus a header for every peer,
// and a free counter per slot and peer. It grows with the ranks: 256 KiB
// per rank of the job at DefaultConfig.
func (c Config) WindowBytes(ranks int) int {
	return ranks * c.Slots * (hdrBytes + c.SlotBytes + 8)
}

const (
	maxPuts  = 8  // chunks one pump puts before it flushes
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
	ring int // bytes of one peer's slots
	cred int // offset of the free counters: Slots words per peer

	// Sender side, per destination.
	sendq [][]*outMsg // messages waiting for or in transmission, FIFO
	sent  []uint64    // chunks put to each destination
	used  [][]uint64  // times each of my slots at each destination was put into
	freed [][]uint64  // times each destination has freed each of my slots

	// Receiver side, per source.
	recvd   []uint64   // chunks received from each source
	frees   [][]uint64 // times I freed each of the source's slots
	credBuf [][]byte   // the free counters put to each source (in scratch)
	asm     []*inMsg   // message being assembled from each source
	posted  [][]*inReq // receives posted per source, in posting order
	unexp   [][]*inMsg // unexpected messages per source, in arrival order
	lent    [][]bool   // slots lent to the Runtime, per source
	loans   []int      // slots lent per source
	maxLoan int        // most slots lent per source at once

	// Loans given back (Return may be called from any goroutine): slot
	// numbers over the whole window, taken by Progress.
	retMu   sync.Mutex
	back    []int
	retDone bool // closed: Return does nothing

	// Scratch the puts read from, in MPI_Alloc_mem memory (no pinning).
	scratch []byte
	hdr     []byte // chunk headers put this round: maxPuts x 24 bytes
	note    []byte // notification words put this round: maxPuts x 8 bytes
	unrep   []int  // slots of each source freed since its counters were last put
	report  int    // put a source's counters once this many of its slots are freed

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
	buf  []byte
	tag  int
	id   uint64
	loan bool // RecvLoan: no buf, at most n bytes
	n    int
}

type inMsg struct {
	src, tag int
	total    int
	got      int
	buf      []byte // the receive's buffer, or the Transport's own
	req      *inReq // matched receive, or nil while unexpected
	direct   bool   // buf is req's buffer (or allocated for a RecvLoan)
	trunc    bool   // req's buffer is too small: the bytes are dropped
}

var (
	_ dagmpi.Transport  = (*Transport)(nil)
	_ dagmpi.PathNamer  = (*Transport)(nil)
	_ dagmpi.Controller = (*Transport)(nil)
	_ dagmpi.Lender     = (*Transport)(nil)
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
	win, err := rma.Allocate[byte](ctl.Comm(), cfg.WindowBytes(t.size))
	if err != nil {
		ctl.Close()
		return nil, fmt.Errorf("onesided: allocating the window: %w", err)
	}
	t.win = win
	t.mem = win.Local()
	clear(t.mem)
	t.scratch, err = mpi.AllocMem(maxPuts*32 + 8*cfg.Slots*t.size)
	if err != nil {
		win.Free()
		ctl.Close()
		return nil, fmt.Errorf("onesided: allocating scratch memory: %w", err)
	}
	t.hdr = t.scratch[:maxPuts*24]
	t.note = t.scratch[maxPuts*24 : maxPuts*32]
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
	t.used = make([][]uint64, n)
	t.freed = make([][]uint64, n)
	t.recvd = make([]uint64, n)
	t.frees = make([][]uint64, n)
	t.credBuf = make([][]byte, n)
	t.lent = make([][]bool, n)
	for i := 0; i < n; i++ {
		t.used[i] = make([]uint64, cfg.Slots)
		t.freed[i] = make([]uint64, cfg.Slots)
		t.frees[i] = make([]uint64, cfg.Slots)
		off := maxPuts*32 + 8*cfg.Slots*i
		t.credBuf[i] = t.scratch[off : off+8*cfg.Slots]
		t.lent[i] = make([]bool, cfg.Slots)
	}
	t.loans = make([]int, n)
	t.maxLoan = max(0, cfg.Slots-2)
	t.asm = make([]*inMsg, n)
	t.posted = make([][]*inReq, n)
	t.unexp = make([][]*inMsg, n)
	t.unrep = make([]int, n)
	// A sender waits only when all its Slots slots are in use; then at
	// most maxLoan are lent and the others are (or, once taken, will be)
	// freed and unreported: reporting every Slots-maxLoan frees is enough
	// for it never to wait for a report that does not come.
	t.report = max(1, cfg.Slots-t.maxLoan)
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

// Loans returns how many slots are lent now and not given back. Call it
// from the goroutine that drives the Transport, or when none does.
func (t *Transport) Loans() int {
	t.retMu.Lock()
	n := -len(t.back)
	t.retMu.Unlock()
	for _, l := range t.loans {
		n += l
	}
	return n
}

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
// free slots allow at once.
func (t *Transport) Send(buf []byte, dst, tag int, id uint64) error {
	if err := t.check("Send", dst, tag); err != nil {
		return err
	}
	if dst == t.rank {
		// To oneself: delivered by a copy, as one chunk.
		if _, err := t.take(dst, tag, len(buf), 0, buf, -1); err != nil {
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
	t.post(&inReq{buf: buf, tag: tag, id: id}, src)
	return nil
}

// Lends implements dagmpi.Lender: a message that fits one slot may be lent,
// when the window has slots enough to lend (Slots at least 3).
func (t *Transport) Lends(n int) bool { return n > 0 && n <= t.cfg.SlotBytes && t.maxLoan > 0 }

// RecvLoan implements dagmpi.Lender: a receive of at most n bytes whose
// Completion carries the bytes in the slot they arrived in (lent until
// Return) or, when the message arrived before the receive, was bigger than a
// slot or came while Slots-2 slots of src's were lent, in a buffer of its
// own.
func (t *Transport) RecvLoan(n, src, tag int, id uint64) error {
	if err := t.check("RecvLoan", src, tag); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("onesided: RecvLoan on rank %d: negative length %d", t.rank, n)
	}
	t.post(&inReq{tag: tag, id: id, loan: true, n: n}, src)
	return nil
}

// Return implements dagmpi.Lender: the slot buf lies in is freed at the
// next Progress.
func (t *Transport) Return(buf []byte) {
	t.retMu.Lock()
	defer t.retMu.Unlock()
	if t.retDone {
		return
	}
	off := -1
	if len(buf) > 0 {
		off = int(uintptr(unsafe.Pointer(unsafe.SliceData(buf))) - uintptr(unsafe.Pointer(unsafe.SliceData(t.mem))))
	}
	if off < 0 || off >= t.cred || off%t.slot != hdrBytes {
		panic(fmt.Sprintf("onesided: Return on rank %d: a buffer of %d bytes that is no slot of this Transport's window", t.rank, len(buf)))
	}
	t.back = append(t.back, off/t.slot)
}

// limit is the capacity a receive can take: its buffer's length, or the n
// of a RecvLoan.
func (r *inReq) limit() int {
	if r.loan {
		return r.n
	}
	return len(r.buf)
}

// post takes the oldest unexpected message from (src, r.tag) for r if one
// has arrived, and otherwise queues r.
func (t *Transport) post(r *inReq, src int) {
	for i, m := range t.unexp[src] {
		if m.tag != r.tag {
			continue
		}
		t.unexp[src] = append(t.unexp[src][:i], t.unexp[src][i+1:]...)
		m.req = r
		if m.got == m.total {
			t.finishUnexpected(m)
		}
		// Otherwise the rest of m arrives later and finishes it.
		return
	}
	t.posted[src] = append(t.posted[src], r)
}

// truncated is the error of a message longer than its receive.
func (t *Transport) truncated(m *inMsg) error {
	return fmt.Errorf("onesided: rank %d: message of %d bytes from rank %d (tag %d) truncated: receive buffer holds %d", t.rank, m.total, m.src, m.tag, m.req.limit())
}

// finishUnexpected delivers a complete message that arrived before its
// receive: copied into the receive's buffer, or handed over whole to a
// RecvLoan.
func (t *Transport) finishUnexpected(m *inMsg) {
	c := dagmpi.Completion{ID: m.req.id, Bytes: m.total}
	switch {
	case m.total > m.req.limit():
		c.Err = t.truncated(m)
	case m.req.loan:
		c.Buf = m.buf[:m.total:m.total]
	default:
		copy(m.req.buf, m.buf[:m.total])
	}
	t.ready = append(t.ready, c)
}

// freeSlot returns the first of dst's slots that dst has freed as often as
// this rank used it, or -1.
func (t *Transport) freeSlot(dst int) int {
	for j, u := range t.used[dst] {
		if t.freed[dst][j] == u {
			return j
		}
	}
	return -1
}

// pump puts the chunks of dst's queued messages that its free slots allow:
// data and headers, a flush, then the notification words and a flush.
func (t *Transport) pump(dst int) error {
	q := t.sendq[dst]
	if len(q) == 0 {
		return nil
	}
	le := binary.LittleEndian
	var (
		disps [maxPuts]int
		data  [maxPuts][]byte
	)
	np := 0
	S := t.cfg.SlotBytes
	for len(q) > 0 && np < maxPuts {
		j := t.freeSlot(dst)
		if j < 0 {
			break
		}
		m := q[0]
		n := min(S, len(m.buf)-m.off)
		h := t.hdr[np*24 : np*24+24]
		le.PutUint64(h, uint64(m.tag))
		le.PutUint64(h[8:], uint64(len(m.buf)))
		le.PutUint64(h[16:], uint64(m.off))
		le.PutUint64(t.note[np*8:], t.sent[dst]+1)
		disps[np] = t.rank*t.ring + j*t.slot
		data[np] = m.buf[m.off : m.off+n]
		m.off += n
		t.sent[dst]++
		t.used[dst][j]++
		np++
		if m.off == len(m.buf) {
			m.last = true
			q = q[1:]
		}
	}
	switch np {
	case 0:
		t.sendq[dst] = q
		return nil
	case 1:
		// One chunk (a message that fits a slot, the latency case): data,
		// header, flush, notification, flush in one call into MPI.
		d := disps[0]
		if err := t.win.PutNotify(data[0], d+hdrBytes, t.hdr[:24], d+offTag, t.note[:8], d+offNote, dst); err != nil {
			return t.fail("put of a chunk", dst, err)
		}
	default:
		for i := 0; i < np; i++ {
			if len(data[i]) > 0 {
				if err := t.win.Put(data[i], dst, disps[i]+hdrBytes); err != nil {
					return t.fail("MPI_Put of data", dst, err)
				}
			}
			if err := t.win.Put(t.hdr[i*24:i*24+24], dst, disps[i]+offTag); err != nil {
				return t.fail("MPI_Put of a header", dst, err)
			}
		}
		if err := t.win.FlushAll(); err != nil {
			return t.fail("MPI_Win_flush_all", dst, err)
		}
		for i := 0; i < np; i++ {
			if err := t.win.Put(t.note[i*8:(i+1)*8], dst, disps[i]+offNote); err != nil {
				return t.fail("MPI_Put of a notification", dst, err)
			}
		}
		if err := t.win.FlushAll(); err != nil {
			return t.fail("MPI_Win_flush_all", dst, err)
		}
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
// arrived, frees slots (taken ones and returned loans), reads which of its
// slots peers freed, and puts what they allow.
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
	if err := t.takeReturns(); err != nil {
		return out, err
	}
	le := binary.LittleEndian
	for s := 0; s < t.size; s++ {
		if s == t.rank {
			continue
		}
		for {
			// Chunk k of s is in the slot whose notification word is k+1.
			k := t.recvd[s]
			j, base := -1, 0
			for i := 0; i < t.cfg.Slots; i++ {
				b := s*t.ring + i*t.slot
				// An atomic load: the header and data read after it must
				// not be read before it (free on amd64, needed on arm64).
				if atomic.LoadUint64((*uint64)(unsafe.Pointer(&t.mem[b+offNote]))) == k+1 {
					j, base = i, b
					break
				}
			}
			if j < 0 {
				break
			}
			tag := int(le.Uint64(t.mem[base+offTag:]))
			total := int(le.Uint64(t.mem[base+offLen:]))
			off := int(le.Uint64(t.mem[base+offOff:]))
			if total < 0 || off < 0 || off > total {
				return out, fmt.Errorf("onesided: rank %d: chunk header from rank %d (tag %d, length %d, offset %d) is corrupt (protocol error)", t.rank, s, tag, total, off)
			}
			kept, err := t.take(s, tag, total, off, t.mem[base+hdrBytes:base+hdrBytes+min(t.cfg.SlotBytes, total-off)], j)
			if err != nil {
				return out, err
			}
			le.PutUint64(t.mem[base+offNote:], 0)
			t.recvd[s]++
			if !kept {
				t.frees[s][j]++
				t.unrep[s]++
			}
		}
	}
	// Tell the senders which slots are free again, once enough are.
	any := false
	for s, u := range t.unrep {
		if u < t.report {
			continue
		}
		t.unrep[s] = 0
		for j, f := range t.frees[s] {
			le.PutUint64(t.credBuf[s][8*j:], f)
		}
		if err := t.win.Put(t.credBuf[s], s, t.cred+8*t.cfg.Slots*t.rank); err != nil {
			return out, t.fail("MPI_Put of free counters", s, err)
		}
		any = true
	}
	if any {
		if err := t.win.FlushAll(); err != nil {
			return out, t.fail("MPI_Win_flush_all", t.rank, err)
		}
	}
	// Read which slots the receivers freed and send what that allows.
	for d := 0; d < t.size; d++ {
		if d == t.rank || len(t.sendq[d]) == 0 {
			continue
		}
		row := t.cred + 8*t.cfg.Slots*d
		for j := range t.freed[d] {
			t.freed[d][j] = le.Uint64(t.mem[row+8*j:])
		}
		if err := t.pump(d); err != nil {
			return out, err
		}
	}
	out = append(out, t.ready...)
	clear(t.ready)
	t.ready = t.ready[:0]
	return out, nil
}

// takeReturns frees the slots whose loans came back since the last call.
func (t *Transport) takeReturns() error {
	t.retMu.Lock()
	back := t.back
	t.back = nil
	t.retMu.Unlock()
	for _, g := range back {
		s, j := g/t.cfg.Slots, g%t.cfg.Slots
		if !t.lent[s][j] {
			return fmt.Errorf("onesided: rank %d: Return of slot %d of rank %d, which is not lent (returned twice?)", t.rank, j, s)
		}
		t.lent[s][j] = false
		t.loans[s]--
		t.frees[s][j]++
		t.unrep[s]++
	}
	return nil
}

// take consumes one chunk from s, in slot j of s's (-1: not in the window):
// the start of a new message or the next piece of the one being assembled.
// It reports whether the slot was lent with it (then it stays in use).
func (t *Transport) take(s, tag, total, off int, data []byte, j int) (kept bool, err error) {
	m := t.asm[s]
	if m == nil {
		if off != 0 {
			return false, fmt.Errorf("onesided: rank %d: chunk at offset %d from rank %d starts no message (protocol error)", t.rank, off, s)
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
		switch {
		case m.req != nil && total > m.req.limit():
			m.trunc = true
		case m.req != nil && m.req.loan && j >= 0 && total > 0 && total == len(data) && t.loans[s] < t.maxLoan:
			// The whole message is in slot j: lend it.
			t.lent[s][j] = true
			t.loans[s]++
			t.ready = append(t.ready, dagmpi.Completion{ID: m.req.id, Bytes: total, Buf: data[:total:total], Loaned: true})
			return true, nil
		case m.req != nil && m.req.loan:
			m.buf, m.direct = make([]byte, total), true
		case m.req != nil:
			m.buf, m.direct = m.req.buf, true
		default:
			m.buf = make([]byte, total)
			t.unexp[s] = append(t.unexp[s], m)
		}
		t.asm[s] = m
	} else if off != m.got || tag != m.tag || total != m.total {
		return false, fmt.Errorf("onesided: rank %d: chunk (tag %d, length %d, offset %d) from rank %d does not continue the message (tag %d, length %d, %d bytes so far) (protocol error)",
			t.rank, tag, total, off, s, m.tag, m.total, m.got)
	}
	if !m.trunc {
		copy(m.buf[off:], data)
	}
	m.got += len(data)
	if m.got < m.total {
		return false, nil
	}
	t.asm[s] = nil
	switch {
	case m.req == nil:
		// Stays in unexp until a receive takes it.
	case m.trunc:
		t.ready = append(t.ready, dagmpi.Completion{ID: m.req.id, Bytes: m.total, Err: t.truncated(m)})
	case m.direct && m.req.loan:
		t.ready = append(t.ready, dagmpi.Completion{ID: m.req.id, Bytes: m.total, Buf: m.buf})
	case m.direct:
		t.ready = append(t.ready, dagmpi.Completion{ID: m.req.id, Bytes: m.total})
	default:
		// An unexpected message whose receive was posted while it arrived.
		t.finishUnexpected(m)
	}
	return false, nil
}

// Close ends the epoch and frees the window and the control transport. It
// is collective. Operations still queued or posted are an error; slots
// still lent die with the window (their Return does nothing).
func (t *Transport) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	t.retMu.Lock()
	t.retDone = true
	t.retMu.Unlock()
	var pending int
	for r := range t.sendq {
		pending += len(t.sendq[r]) + len(t.posted[r])
	}
	errs := []error{t.win.UnlockAll(), t.win.Free(), mpi.FreeMem(t.scratch), t.ctl.Close()}
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
