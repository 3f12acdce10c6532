package dagmpi

// Device handles and device tasks.
//
// A DevicePool (Runtime.AddDevice) is one accelerator of this rank with a
// pool of streams. NewDeviceData makes a handle whose replicas live in the
// pool's device memory; a task submitted with OnDevice gets a stream of the
// pool (round robin) and enqueues its work there instead of running it.
//
// A device task finishes in two steps. When its body returns, its work is
// only enqueued: an event recorded after it marks the end. Device tasks of
// the same pool that depend on it are released at that point, and their
// streams wait for the event (no host synchronisation). Everything else that
// depends on it (host tasks, sends, Fetch, Data.Wait, the replica
// bookkeeping) waits until the progress goroutine sees the event complete.
// In terms of sched.go: an edge between two device tasks of one pool is an
// "early" edge, released at enqueue; every other edge is released at the
// end, as for host operations.
//
// Transfers of device replicas go chunk by chunk (DeviceOptions.ChunkBytes,
// the same on every rank). On the staged path a chunk is copied to pinned
// host memory on the pool's copy stream and sent while the next chunk is
// copied (and the reverse on receive); on the direct path (a CUDA-aware MPI
// and a Transport with the DeviceTransport capability) the chunks go from
// and to device memory. The two paths put the same messages on the wire.
//
// The rest of the runtime reaches this file through small hooks, each
// marked "device.go": Submit (the OnDevice argument, checkDeviceArgs,
// deviceTaskLocked), edgeLocked (early edges), completeLocked (the first
// completion), replica.drop (device memory back to the pool), Data.Buf,
// Fetch and FetchAll, the progress loop (pollTasks before the transport,
// devPoll after it, devIdle when only device work is under way, the sleep
// with a Waker), postSend and postRecvs (devSend, devRecv), stallLocked,
// and Runtime.Close (closeDevices).

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// Device is an accelerator as the Runtime needs it: memory, streams and
// events. Package cudaaware implements it (cudaaware.DagmpiDevice); dagmpi
// knows no GPU API. Its methods are safe for concurrent use.
type Device interface {
	// String names the device, for messages.
	String() string
	// Alloc allocates bytes of device memory.
	Alloc(bytes int) (DeviceMem, error)
	// AllocHost allocates bytes of pinned host memory, which asynchronous
	// copies and a CUDA-unaware MPI can use, and returns it with the
	// function that frees it.
	AllocHost(bytes int) (buf []byte, free func() error, err error)
	// NewStream makes a stream.
	NewStream() (DeviceStream, error)
	// NewEvent makes an event.
	NewEvent() (DeviceEvent, error)
	// Direct reports whether MPI reads and writes this device's memory (a
	// CUDA-aware MPI), so transfers may skip the host staging.
	Direct() bool
}

// DeviceMem is an allocation of device memory. Its address is not a Go
// pointer: the Runtime only hands it to copies and to a DeviceTransport.
type DeviceMem interface {
	Ptr() unsafe.Pointer
	Len() int
	Free() error
}

// DeviceStream is an ordered queue of asynchronous device work. Its
// enqueueing methods return at once. The Runtime uses a stream from one
// goroutine at a time.
type DeviceStream interface {
	// CopyHtoD enqueues a copy of src to dst at byte offset off.
	CopyHtoD(dst DeviceMem, off int, src []byte) error
	// CopyDtoH enqueues a copy of len(dst) bytes of src at byte offset off.
	CopyDtoH(dst []byte, src DeviceMem, off int) error
	// Record enqueues e, which completes when the work before it has.
	Record(e DeviceEvent) error
	// Wait makes later work on the stream wait for e's latest record,
	// without blocking the host.
	Wait(e DeviceEvent) error
	// Synchronize blocks until the stream's work has completed.
	Synchronize() error
	// Close waits for the stream's work and releases it.
	Close() error
}

// DeviceEvent marks a point in a stream. One never recorded is complete.
type DeviceEvent interface {
	// Done reports, without blocking, whether the work before the latest
	// record has completed.
	Done() (bool, error)
	Close() error
}

// DeviceTransport is an optional Transport capability: Send and Recv of
// device memory, for the direct path. The bytes at byte offset off of mem
// go to MPI as they are (a CUDA-aware MPI reads device memory). Completion,
// matching and ids are as for Send and Recv. Package p2p implements it.
type DeviceTransport interface {
	SendDevice(mem DeviceMem, off, bytes, dst, tag int, id uint64) error
	RecvDevice(mem DeviceMem, off, bytes, src, tag int, id uint64) error
}

// DevicePath chooses how device replicas move between ranks.
type DevicePath int

const (
	// DeviceAuto is DeviceDirect when the Device reports a CUDA-aware MPI
	// and the Transport is a DeviceTransport, DeviceStaged otherwise.
	DeviceAuto DevicePath = iota
	// DeviceDirect hands device memory to the Transport.
	DeviceDirect
	// DeviceStaged copies through pinned host memory, chunk by chunk.
	DeviceStaged
)

func (p DevicePath) String() string {
	switch p {
	case DeviceAuto:
		return "auto"
	case DeviceDirect:
		return "direct"
	case DeviceStaged:
		return "staged"
	}
	return fmt.Sprintf("DevicePath(%d)", int(p))
}

// DefaultDeviceChunk is DeviceOptions.ChunkBytes when it is 0.
const DefaultDeviceChunk = 512 << 10

// DeviceOptions configures a DevicePool. The chunk size decides the
// messages of a transfer, so it must be the same on every rank; the path and
// the stream count may differ.
type DeviceOptions struct {
	// Streams is the number of streams device tasks use, round robin
	// (default 4).
	Streams int
	// ChunkBytes is the size of the messages a device transfer is cut into
	// (default DefaultDeviceChunk).
	ChunkBytes int
	// Depth is the number of staging buffers (chunks in flight) of one
	// staged transfer, at least 2 (default 2).
	Depth int
	// Path chooses direct or staged transfers.
	Path DevicePath
}

// DevicePool is one device of this rank, registered with a Runtime by
// AddDevice: its memory holds the replicas of device handles
// (NewDeviceData) and its streams run device tasks (OnDevice).
type DevicePool struct {
	rt     *Runtime
	dev    Device
	direct bool
	chunk  int
	depth  int

	streams []*poolStream
	next    atomic.Uint32 // round robin

	// The copy streams of staged transfers, used by the progress
	// goroutine only, with its free staging buffers and events.
	dtoh, htod DeviceStream
	slots      [][]byte
	events     []DeviceEvent

	mu     sync.Mutex
	live   map[DeviceMem]struct{} // allocated, in use or free
	free   map[int][]DeviceMem    // by size
	frees  []func() error         // of pinned buffers
	closed bool
}

type poolStream struct {
	mu sync.Mutex
	s  DeviceStream
	i  int
}

// devState is the Runtime's device part.
type devState struct {
	pools   []*DevicePool
	sub     *DevicePool  // OnDevice of the task being submitted
	pend    []*op        // device tasks enqueued, event not yet seen done (rt.mu)
	busy    atomic.Int32 // len(pend) plus active transfers, readable unlocked
	lastEnq atomic.Int64 // time of the last enqueue (UnixNano), for devIdle
	poll    []*op        // progress goroutine's scratch
	doneQ   []*op        // idem
}

// AddDevice registers d with the Runtime and makes its streams. It is
// local; every rank registers its own device before making device handles.
// Close releases the streams and the device memory of every replica.
func (rt *Runtime) AddDevice(d Device, o DeviceOptions) (*DevicePool, error) {
	if rt.closed {
		return nil, ErrClosed
	}
	if d == nil {
		return nil, errors.New("dagmpi: AddDevice: nil Device")
	}
	if o.Streams == 0 {
		o.Streams = 4
	}
	if o.ChunkBytes == 0 {
		o.ChunkBytes = DefaultDeviceChunk
	}
	if o.Depth == 0 {
		o.Depth = 2
	}
	if o.Streams < 1 || o.ChunkBytes < 1 || o.Depth < 2 {
		return nil, fmt.Errorf("dagmpi: AddDevice(%s): Streams %d, ChunkBytes %d, Depth %d: want Streams >= 1, ChunkBytes >= 1, Depth >= 2", d, o.Streams, o.ChunkBytes, o.Depth)
	}
	_, capable := rt.tr.(DeviceTransport)
	p := &DevicePool{rt: rt, dev: d, chunk: o.ChunkBytes, depth: o.Depth,
		live: map[DeviceMem]struct{}{}, free: map[int][]DeviceMem{}}
	switch o.Path {
	case DeviceAuto:
		p.direct = capable && d.Direct()
	case DeviceDirect:
		if !capable {
			return nil, fmt.Errorf("dagmpi: AddDevice(%s): the direct path needs a Transport with device support (DeviceTransport, as package p2p's); %T has none", d, rt.tr)
		}
		if !d.Direct() {
			return nil, fmt.Errorf("dagmpi: AddDevice(%s): the direct path needs a CUDA-aware MPI, and the device reports none", d)
		}
		p.direct = true
	case DeviceStaged:
	default:
		return nil, fmt.Errorf("dagmpi: AddDevice(%s): unknown path %d", d, int(o.Path))
	}
	fail := func(err error) (*DevicePool, error) {
		p.release()
		return nil, fmt.Errorf("dagmpi: AddDevice(%s): %w", d, err)
	}
	for i := range o.Streams {
		s, err := d.NewStream()
		if err != nil {
			return fail(err)
		}
		p.streams = append(p.streams, &poolStream{s: s, i: i})
	}
	var err error
	if p.dtoh, err = d.NewStream(); err != nil {
		return fail(err)
	}
	if p.htod, err = d.NewStream(); err != nil {
		return fail(err)
	}
	rt.dev.pools = append(rt.dev.pools, p)
	return p, nil
}

// Device returns the pool's device.
func (p *DevicePool) Device() Device { return p.dev }

// Streams returns the number of task streams.
func (p *DevicePool) Streams() int { return len(p.streams) }

// Path returns the path the pool's transfers take (DeviceDirect or
// DeviceStaged).
func (p *DevicePool) Path() DevicePath {
	if p.direct {
		return DeviceDirect
	}
	return DeviceStaged
}

func (p *DevicePool) alloc(bytes int) (DeviceMem, error) {
	p.mu.Lock()
	if l := p.free[bytes]; len(l) > 0 {
		m := l[len(l)-1]
		p.free[bytes] = l[:len(l)-1]
		p.mu.Unlock()
		return m, nil
	}
	p.mu.Unlock()
	m, err := p.dev.Alloc(bytes)
	if err != nil {
		return nil, fmt.Errorf("dagmpi: rank %d: allocating %d bytes on %s: %w", p.rt.me, bytes, p.dev, err)
	}
	p.mu.Lock()
	p.live[m] = struct{}{}
	p.mu.Unlock()
	return m, nil
}

// recycle keeps m for a later replica of the same size.
func (p *DevicePool) recycle(m DeviceMem) {
	p.mu.Lock()
	if !p.closed {
		p.free[m.Len()] = append(p.free[m.Len()], m)
	}
	p.mu.Unlock()
}

// release frees everything the pool holds.
func (p *DevicePool) release() error {
	var errs []error
	for _, s := range p.streams {
		errs = append(errs, s.s.Close())
	}
	for _, s := range []DeviceStream{p.dtoh, p.htod} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	for _, e := range p.events {
		errs = append(errs, e.Close())
	}
	p.streams, p.dtoh, p.htod, p.events, p.slots = nil, nil, nil, nil, nil
	p.mu.Lock()
	p.closed = true
	for m := range p.live {
		errs = append(errs, m.Free())
	}
	for _, f := range p.frees {
		errs = append(errs, f())
	}
	p.live, p.free, p.frees = nil, nil, nil
	p.mu.Unlock()
	return errors.Join(errs...)
}

// closeDevices releases every pool (Runtime.Close, after the goroutines
// ended).
func (rt *Runtime) closeDevices() error {
	var errs []error
	for _, p := range rt.dev.pools {
		errs = append(errs, p.release())
	}
	rt.dev.pools = nil
	return errors.Join(errs...)
}

// drop forgets the replica's buffer once it is stale and unused, returning
// its device memory to the pool.
func (r *replica) drop() {
	if r.loan {
		r.giveBack()
	}
	r.buf = nil
	if r.dmem != nil {
		r.h.dev.recycle(r.dmem)
		r.dmem = nil
	}
}

// devPlaceholder stands for a device replica's buf, which the bookkeeping
// tests for nil; the data is in replica.dmem.
var devPlaceholder = make([]byte, 0)

// NewDeviceData is NewData for a handle whose replicas live in the memory
// of pool p's device on every rank: on the home rank init (nil for zeros)
// is uploaded now. Only tasks submitted with OnDevice(p) access it, with
// Data.Mem and Task.Stream; Fetch and FetchAll return host values. Every
// rank calls it in the same order (each with its own pool).
func NewDeviceData[T any](p *DevicePool, n, home int, init []T) (*Data[T], error) {
	if p == nil {
		return nil, errors.New("dagmpi: NewDeviceData: nil DevicePool")
	}
	rt := p.rt
	d, err := NewData(rt, n, home, init)
	if err != nil {
		return nil, err
	}
	h := d.h
	h.dev = p
	h.alloc = func() []byte { return devPlaceholder }
	rt.hash = mix(rt.hash, 0xde71ce)
	if r := h.rep; r != nil {
		host := r.buf
		r.buf = devPlaceholder
		m, err := p.alloc(h.bytes)
		if err != nil {
			return nil, err
		}
		r.dmem = m
		s := p.streams[0]
		s.mu.Lock()
		err = s.s.CopyHtoD(m, 0, host)
		if err == nil {
			err = s.s.Synchronize()
		}
		s.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("dagmpi: NewDeviceData: uploading %d bytes to %s: %w", h.bytes, p.dev, err)
		}
	}
	return d, nil
}

// OnDevice makes the task a device task of pool p: its body gets a stream
// of p (Task.Stream) and must only enqueue work on it, without waiting for
// it. The stream first waits, with events, for the earlier device tasks of
// p that the task conflicts with; host operations that depend on the task
// wait until its work has completed.
func OnDevice(p *DevicePool) Arg { return Arg{kind: argDevice, d: p} }

// Stream returns the stream of a device task (OnDevice), nil for a host
// task.
func (t *Task) Stream() DeviceStream {
	if t.op.dev == nil || t.op.dev.stream == nil {
		return nil
	}
	return t.op.dev.stream.s
}

// StreamIndex returns the index, in its pool, of a device task's stream,
// or -1 for a host task.
func (t *Task) StreamIndex() int {
	if t.op.dev == nil || t.op.dev.stream == nil {
		return -1
	}
	return t.op.dev.stream.i
}

// Mem returns the device memory of the task's replica of d, a device
// handle (NewDeviceData), for the duration of the body; its first
// d.Len()*sizeof(T) bytes are the data. It panics if d is not a device
// handle or the task did not declare an access to it.
func (d *Data[T]) Mem(t *Task) DeviceMem {
	h := d.handle()
	if h.dev == nil {
		panic(errNotDevice)
	}
	for i := range t.op.acc {
		if t.op.acc[i].h == h {
			return t.op.acc[i].rep.dmem
		}
	}
	panic(errNotInTask)
}

// Device returns the pool of a device handle, nil for a host handle.
func (d *Data[T]) Device() *DevicePool { return d.handle().dev }

// checkDeviceArgs checks the accesses of a task against its pool (nil for
// a host task).
func (rt *Runtime) checkDeviceArgs(acc []access, p *DevicePool) error {
	if p != nil && p.rt != rt {
		return errors.New("dagmpi: Submit: OnDevice: the pool belongs to another Runtime")
	}
	for i := range acc {
		hp := acc[i].h.dev
		switch {
		case hp != nil && p == nil:
			return fmt.Errorf("dagmpi: Submit: Data %d lives on device %s: only a task submitted with OnDevice accesses it", acc[i].h.id, hp.dev)
		case hp != nil && hp != p:
			return fmt.Errorf("dagmpi: Submit: Data %d lives on device %s, the task runs on %s", acc[i].h.id, hp.dev, p.dev)
		}
	}
	return nil
}

// devTask is the device part of a device task. Its fields are guarded by
// rt.mu, except stream and ev, which the running body sets before the
// task is released to anyone.
type devTask struct {
	pool     *DevicePool
	stream   *poolStream
	ev       DeviceEvent
	waits    []*devTask // earlier device tasks whose events the stream waits for
	esucc    []*op      // device tasks to release at enqueue
	enqueued bool
	done     bool
	refs     int // holders of ev: the task until done, and unconsumed waits
}

// devSkipWaits disables the event waits between device tasks (a test hook
// that shows what a missing synchronisation does).
var devSkipWaits atomic.Bool

// deviceTaskLocked makes t, being built, a device task of p.
func (rt *Runtime) deviceTaskLocked(t *op, p *DevicePool) {
	t.dev = &devTask{pool: p, refs: 1}
	body := t.body
	t.body = func(tk *Task) error { return p.run(tk, body) }
}

// devEdgeLocked makes device task s wait for device task p of the same
// pool through p's event.
func devEdgeLocked(p, s *op) {
	if p.dev.enqueued {
		p.dev.refs++
		s.dev.waits = append(s.dev.waits, p.dev)
		return
	}
	p.dev.esucc = append(p.dev.esucc, s)
	s.npred++
}

// run runs a device task's body on a stream of the pool.
func (p *DevicePool) run(tk *Task, body func(*Task) error) error {
	o := tk.op
	dt := o.dev
	for i := range o.acc {
		a := &o.acc[i]
		if a.h.dev != nil && a.rep.dmem == nil {
			m, err := p.alloc(a.h.bytes)
			if err != nil {
				return err
			}
			a.rep.dmem = m
		}
	}
	ev, err := p.dev.NewEvent()
	if err != nil {
		return err
	}
	s := p.streams[int(p.next.Add(1)-1)%len(p.streams)]
	s.mu.Lock()
	defer s.mu.Unlock()
	dt.stream = s
	dt.ev = ev
	if !devSkipWaits.Load() {
		for _, w := range dt.waits {
			if err := s.s.Wait(w.ev); err != nil {
				return err
			}
		}
	}
	err = body(tk)
	if rerr := s.s.Record(ev); err == nil {
		err = rerr
	}
	return err
}

// devEnqueuedLocked is the first completion of a device task: its body
// returned. Device successors are released with its event; the rest waits
// for the event, which the progress goroutine polls.
func (rt *Runtime) devEnqueuedLocked(o *op) {
	dt := o.dev
	dt.enqueued = true
	rt.stats.tasks++
	for _, s := range dt.esucc {
		dt.refs++
		s.dev.waits = append(s.dev.waits, dt)
		s.npred--
		if s.npred == 0 {
			rt.readyLocked(s)
		}
	}
	dt.esucc = nil
	for _, w := range dt.waits {
		w.unrefLocked()
	}
	dt.waits = nil
	rt.dev.pend = append(rt.dev.pend, o)
	rt.dev.busy.Add(1)
	rt.dev.lastEnq.Store(time.Now().UnixNano())
	rt.kick()
}

// stalled describes an enqueued device task for the watchdog.
func (dt *devTask) stalled() string {
	if dt.stream == nil {
		return fmt.Sprintf("on %s, not enqueued (failed)", dt.pool.dev)
	}
	return fmt.Sprintf("enqueued on %s stream %d, waiting for its event", dt.pool.dev, dt.stream.i)
}

func (dt *devTask) unrefLocked() {
	dt.refs--
	if dt.refs == 0 && dt.ev != nil {
		dt.ev.Close()
		dt.ev = nil
	}
}

// devBusy reports whether device work the progress goroutine must poll is
// under way.
func (rt *Runtime) devBusy() bool { return rt.dev.busy.Load() > 0 }

// devPump is the progress goroutine's device state: the transfers of
// device replicas under way.
type devPump struct {
	xfers  []*devXfer
	chunks []chunkRef // by chunk id &^ chunkBit
	freeID []uint64
	keys   map[xferKey][]*devXfer // transfers waiting for an earlier one with the same key
	active time.Time              // devIdle: last activity it knows of
	seen   time.Time              // last device event seen complete
	timer  *time.Timer            // devIdle's
}

// chunkBit marks the ids of chunk messages, so they never meet the pump's
// own ids (which are small).
const chunkBit = 1 << 62

type chunkRef struct {
	x *devXfer
	k int
}

type xferKey struct {
	send      bool
	peer, tag int
}

// devXfer is one transfer of a device replica, cut into chunks.
type devXfer struct {
	o       *op
	id      uint64 // the pump's id of o
	send    bool
	peer    int
	tag     int
	pool    *DevicePool
	mem     DeviceMem
	bytes   int
	nch     int
	host    bool  // a host message queued behind device transfers (hostHold)
	path    uint8 // Completion.Path of the last chunk that finished
	started bool
	posted  int // chunks handed to the transport
	retire  int // chunks finished (send complete; received and copied)
	copied  int // send: chunks whose copy was enqueued
	slots   [][]byte
	evs     []DeviceEvent
	phase   []uint8 // by slot
	err     error
}

const (
	slotFree uint8 = iota
	slotCopy       // a copy fills (send) or drains (receive) the slot
	slotWire       // the slot is lent to the transport
)

func (x *devXfer) span(k int) (off, n int) {
	off = k * x.pool.chunk
	return off, min(x.pool.chunk, x.bytes-off)
}

func (x *devXfer) key() xferKey { return xferKey{x.send, x.peer, x.tag} }

// devSend and devRecv post a transfer for postSend and postRecvs: a
// transfer of a device replica, or a host message while device transfers
// post chunks.
//
// The chunks of a staged transfer are posted over time, all with the
// transfer's tag. Another message between the same ranks with the same tag
// (tags repeat every TagBound transfers) must not be posted in between,
// or the receiver would match it to a chunk: such messages, host or
// device, wait in keys behind the transfer until its last chunk is posted.
func (p *pump) devSend(o *op, dst, tag int, id uint64) error {
	x := &devXfer{o: o, id: id, send: true, peer: dst, tag: tag}
	if o.rep.h.dev == nil {
		return p.hostHold(x)
	}
	return p.devStart(x)
}

func (p *pump) devRecv(o *op, tag int, id uint64) error {
	x := &devXfer{o: o, id: id, peer: o.peer, tag: tag}
	if o.rep.h.dev == nil {
		return p.hostHold(x)
	}
	m, err := o.rep.h.dev.alloc(o.rep.h.bytes)
	if err != nil {
		return err
	}
	o.rep.dmem = m
	return p.devStart(x)
}

// hostHold posts a host message, or queues it behind a device transfer
// with the same key.
func (p *pump) hostHold(x *devXfer) error {
	x.host = true
	k := x.key()
	if q := p.dev.keys[k]; len(q) > 0 {
		p.dev.keys[k] = append(q, x)
		return nil
	}
	return p.hostPost(x)
}

func (p *pump) hostPost(x *devXfer) error {
	if x.send {
		return p.rt.tr.Send(x.o.rep.buf, x.peer, x.tag, x.id)
	}
	return p.rt.tr.Recv(x.o.rep.buf, x.peer, x.tag, x.id)
}

func (p *pump) devStart(x *devXfer) error {
	h := x.o.rep.h
	x.pool, x.mem, x.bytes = h.dev, x.o.rep.dmem, h.bytes
	x.nch = (x.bytes + x.pool.chunk - 1) / x.pool.chunk
	p.rt.dev.busy.Add(1)
	d := &p.dev
	d.xfers = append(d.xfers, x)
	if d.keys == nil {
		d.keys = map[xferKey][]*devXfer{}
	}
	k := x.key()
	q := d.keys[k]
	d.keys[k] = append(q, x)
	if len(q) > 0 {
		return nil // an earlier transfer with this key still posts chunks
	}
	return p.devBegin(x)
}

// devBegin starts posting x's chunks.
func (p *pump) devBegin(x *devXfer) error {
	x.started = true
	if x.nch == 0 {
		return p.devPosted(x)
	}
	if x.pool.direct {
		tr := p.rt.tr.(DeviceTransport)
		for k := range x.nch {
			off, n := x.span(k)
			id := p.chunkID(x, k)
			var err error
			if x.send {
				err = tr.SendDevice(x.mem, off, n, x.peer, x.tag, id)
			} else {
				err = tr.RecvDevice(x.mem, off, n, x.peer, x.tag, id)
			}
			if err != nil {
				return err
			}
		}
		x.posted = x.nch
		return p.devPosted(x)
	}
	depth := min(x.pool.depth, x.nch)
	for range depth {
		b, ev, err := x.pool.slot()
		if err != nil {
			return err
		}
		x.slots = append(x.slots, b)
		x.evs = append(x.evs, ev)
	}
	x.phase = make([]uint8, depth)
	if x.send {
		var worked bool
		return p.advance(x, &worked)
	}
	for k := range depth {
		if err := p.postChunk(x, k); err != nil {
			return err
		}
	}
	return nil
}

// slot returns a staging buffer of ChunkBytes and an event. Progress
// goroutine only.
func (p *DevicePool) slot() ([]byte, DeviceEvent, error) {
	if n := len(p.slots); n > 0 {
		b, e := p.slots[n-1], p.events[n-1]
		p.slots, p.events = p.slots[:n-1], p.events[:n-1]
		return b, e, nil
	}
	b, free, err := p.dev.AllocHost(p.chunk)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	p.frees = append(p.frees, free)
	p.mu.Unlock()
	e, err := p.dev.NewEvent()
	if err != nil {
		return nil, nil, err
	}
	return b, e, nil
}

func (p *pump) chunkID(x *devXfer, k int) uint64 {
	d := &p.dev
	var i uint64
	if n := len(d.freeID); n > 0 {
		i = d.freeID[n-1]
		d.freeID = d.freeID[:n-1]
	} else {
		i = uint64(len(d.chunks))
		d.chunks = append(d.chunks, chunkRef{})
	}
	d.chunks[i] = chunkRef{x, k}
	return i | chunkBit
}

// copyOut enqueues the copy of chunk k to its staging slot (send).
func (p *pump) copyOut(x *devXfer, k int) error {
	sl := k % len(x.slots)
	off, n := x.span(k)
	if err := x.pool.dtoh.CopyDtoH(x.slots[sl][:n], x.mem, off); err != nil {
		return err
	}
	x.phase[sl] = slotCopy
	x.copied = k + 1
	return x.pool.dtoh.Record(x.evs[sl])
}

// postChunk posts the receive of chunk k into its staging slot.
func (p *pump) postChunk(x *devXfer, k int) error {
	sl := k % len(x.slots)
	_, n := x.span(k)
	x.phase[sl] = slotWire
	x.posted = k + 1
	if err := p.rt.tr.Recv(x.slots[sl][:n], x.peer, x.tag, p.chunkID(x, k)); err != nil {
		return err
	}
	if x.posted == x.nch {
		return p.devPosted(x)
	}
	return nil
}

// devPosted notes that every chunk of x is posted: the next transfer with
// its key may start.
func (p *pump) devPosted(x *devXfer) error {
	d := &p.dev
	k := x.key()
	q := d.keys[k]
	q = q[1:]
	if len(q) == 0 {
		delete(d.keys, k)
		return nil
	}
	d.keys[k] = q
	if x := q[0]; x.host {
		if err := p.hostPost(x); err != nil {
			return err
		}
		return p.devPosted(x)
	}
	return p.devBegin(q[0])
}

// devPoll is the progress goroutine's device step, after Transport.Progress:
// it takes the completions of chunk messages out of done, advances the
// transfers, appends a completion for each finished transfer, and ends the
// device tasks whose events completed.
func (p *pump) devPoll(done []Completion, worked *bool) ([]Completion, error) {
	rt := p.rt
	d := &p.dev
	j := 0
	for _, c := range done {
		if c.ID&chunkBit == 0 {
			done[j] = c
			j++
			continue
		}
		i := c.ID &^ chunkBit
		if i >= uint64(len(d.chunks)) || d.chunks[i].x == nil {
			return done, fmt.Errorf("transport reported unknown chunk id %d", i)
		}
		ref := d.chunks[i]
		d.chunks[i] = chunkRef{}
		d.freeID = append(d.freeID, i)
		*worked = true
		if err := p.chunkDone(ref.x, ref.k, c); err != nil {
			return done, err
		}
	}
	done = done[:j]
	// Advance the staged transfers on their events, and report those that
	// finished.
	k := 0
	for _, x := range d.xfers {
		if x.started && x.err == nil && !x.pool.direct {
			if err := p.advance(x, worked); err != nil {
				return done, err
			}
		}
		if x.err != nil || x.retire == x.nch && x.started {
			c := Completion{ID: x.id, Bytes: x.bytes, Err: x.err, Path: x.path}
			if x.err != nil {
				c.Bytes = 0
			}
			done = append(done, c)
			for i := range x.slots {
				x.pool.slots = append(x.pool.slots, x.slots[i])
				x.pool.events = append(x.pool.events, x.evs[i])
			}
			rt.dev.busy.Add(-1)
			*worked = true
			continue
		}
		d.xfers[k] = x
		k++
	}
	clear(d.xfers[k:])
	d.xfers = d.xfers[:k]
	return done, nil
}

// devIdle waits a little for device events when device work is all that
// is under way, as the progress goroutine does for transfers: it spins for
// WithSpin after the last device activity, dozes for dozeWindow, then
// sleeps WithPollInterval between polls; a kick ends the wait.
func (p *pump) devIdle() {
	rt := p.rt
	d := &p.dev
	now := time.Now()
	if d.active.Before(d.seen) {
		d.active = d.seen
	}
	if t := rt.dev.lastEnq.Load(); t > d.active.UnixNano() {
		d.active = time.Unix(0, t)
	}
	switch idle := now.Sub(d.active); {
	case idle < rt.cfg.spin:
		gosched()
		return
	case idle < rt.cfg.spin+dozeWindow:
		select {
		case <-rt.wake:
			d.active = time.Now()
		default:
			dozeSleep(dozeInterval)
		}
		return
	}
	if d.timer == nil {
		d.timer = time.NewTimer(rt.cfg.poll)
	} else {
		d.timer.Reset(rt.cfg.poll)
	}
	select {
	case <-rt.wake:
		d.active = time.Now()
	case <-d.timer.C:
	}
	stopTimer(d.timer)
}

// chunkDone handles the completion of chunk k of x.
func (p *pump) chunkDone(x *devXfer, k int, c Completion) error {
	_, n := x.span(k)
	x.path = c.Path
	if c.Err != nil {
		x.err = c.Err
		return nil
	}
	if !x.send && c.Bytes != n {
		x.err = fmt.Errorf("chunk %d of %d: %d bytes, want %d (is DeviceOptions.ChunkBytes %d on every rank?)", k, x.nch, c.Bytes, n, x.pool.chunk)
		return nil
	}
	if x.pool.direct {
		x.retire++
		return nil
	}
	sl := k % len(x.slots)
	if x.send {
		x.phase[sl] = slotFree // advance refills it, in chunk order
		x.retire++
		return nil
	}
	off, _ := x.span(k)
	x.phase[sl] = slotCopy
	if err := x.pool.htod.CopyHtoD(x.mem, off, x.slots[sl][:n]); err != nil {
		return err
	}
	return x.pool.htod.Record(x.evs[sl])
}

// advance moves a staged transfer on: sends the chunks whose copies
// completed (in order), and retires received chunks whose copies
// completed, posting the receive of the chunk that reuses the slot.
func (p *pump) advance(x *devXfer, worked *bool) error {
	if x.send {
		for x.copied < x.nch && x.phase[x.copied%len(x.slots)] == slotFree {
			if err := p.copyOut(x, x.copied); err != nil {
				return err
			}
		}
		for x.posted < x.copied {
			sl := x.posted % len(x.slots)
			ok, err := x.evs[sl].Done()
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
			_, n := x.span(x.posted)
			x.phase[sl] = slotWire
			id := p.chunkID(x, x.posted)
			x.posted++
			*worked = true
			if err := p.rt.tr.Send(x.slots[sl][:n], x.peer, x.tag, id); err != nil {
				return err
			}
			if x.posted == x.nch {
				if err := p.devPosted(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for x.retire < x.posted {
		sl := x.retire % len(x.slots)
		if x.phase[sl] != slotCopy {
			return nil
		}
		ok, err := x.evs[sl].Done()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		x.phase[sl] = slotFree
		x.retire++
		*worked = true
		if nk := x.retire - 1 + len(x.slots); nk < x.nch {
			if err := p.postChunk(x, nk); err != nil {
				return err
			}
		}
	}
	return nil
}

// pollTasks ends the device tasks whose events completed.
func (p *pump) pollTasks(worked *bool) error {
	rt := p.rt
	ds := &rt.dev
	rt.mu.Lock()
	poll := append(ds.poll[:0], ds.pend...)
	rt.mu.Unlock()
	if len(poll) == 0 {
		ds.poll = poll
		return nil
	}
	doneQ := ds.doneQ[:0]
	for _, o := range poll {
		ev := o.dev.ev
		ok := true
		if ev != nil {
			var err error
			if ok, err = ev.Done(); err != nil {
				return fmt.Errorf("device task %q (#%d): event: %w", o.name, o.seq, err)
			}
		}
		if ok {
			doneQ = append(doneQ, o)
		}
	}
	if len(doneQ) > 0 {
		*worked = true
		p.dev.seen = time.Now()
		rt.mu.Lock()
		for _, o := range doneQ {
			o.dev.done = true
		}
		k := 0
		for _, o := range ds.pend {
			if !o.dev.done {
				ds.pend[k] = o
				k++
			}
		}
		clear(ds.pend[k:])
		ds.pend = ds.pend[:k]
		for _, o := range doneQ {
			ds.busy.Add(-1)
			o.dev.unrefLocked()
			rt.completeLocked(o)
		}
		rt.mu.Unlock()
	}
	clear(poll)
	clear(doneQ)
	ds.poll, ds.doneQ = poll[:0], doneQ[:0]
	return nil
}

// fetchDevice is Fetch for a device handle: a device task on root copies
// the version to host memory.
func fetchDevice[T any](d *Data[T], roots []int) ([]T, error) {
	h := d.h
	rt := h.rt
	var out []T
	for _, root := range roots {
		if rt.me == root {
			out = make([]T, h.n)
		}
		err := rt.Submit(func(t *Task) error {
			if h.bytes == 0 {
				return nil
			}
			return t.Stream().CopyDtoH(bytesOf(out), d.Mem(t), 0)
		}, d.Read(), OnRank(root), OnDevice(h.dev), Name("dagmpi.Fetch"))
		if err != nil {
			return nil, err
		}
	}
	if err := d.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
