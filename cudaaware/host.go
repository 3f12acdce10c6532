package cudaaware

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// HostDevice is host memory standing in for a GPU, so code written for
// devices (the staging pipeline, stream and event dependencies) runs and is
// tested where there is none. Its memory is Go memory; each stream is a
// goroutine that runs the stream's work in order, so copies really are
// asynchronous to the host and to other streams, and an event really is
// complete only when the work before it is. Copies can be slowed down
// (HostOptions.CopyDelay) to make a missing synchronisation show as wrong
// data.
type HostDevice struct {
	name  string
	delay time.Duration
	log   bool

	mu      sync.Mutex
	copies  []CopyRecord
	live    map[*hostStream]struct{}
	streams int // streams made so far: the next one's number
}

// HostOptions configures a HostDevice.
type HostOptions struct {
	// Name names the device in messages; default "host stand-in".
	Name string
	// CopyDelay is slept by the stream before each copy runs.
	CopyDelay time.Duration
	// Log records every copy in completion order (Copies).
	Log bool
}

// NewHostDevice returns a host stand-in device.
func NewHostDevice(o HostOptions) *HostDevice {
	if o.Name == "" {
		o.Name = "host stand-in"
	}
	return &HostDevice{name: o.Name, delay: o.CopyDelay, log: o.Log, live: map[*hostStream]struct{}{}}
}

var _ Device = (*HostDevice)(nil)

func (d *HostDevice) String() string { return d.name }
func (d *HostDevice) host() bool     { return true }

// Alloc allocates bytes of stand-in device memory (Go memory).
func (d *HostDevice) Alloc(bytes int) (*Mem, error) {
	if bytes < 0 {
		return nil, errf("Alloc", "negative size %d on %s", bytes, d)
	}
	m := &Mem{dev: d, n: bytes}
	if bytes > 0 {
		m.host = make([]byte, bytes)
		m.ptr = unsafe.Pointer(unsafe.SliceData(m.host))
	}
	return m, nil
}

// AllocHost allocates bytes of host memory, as pinned memory would be.
func (d *HostDevice) AllocHost(bytes int) (*HostMem, error) {
	if bytes < 0 {
		return nil, errf("AllocHost", "negative size %d on %s", bytes, d)
	}
	return &HostMem{b: make([]byte, bytes)}, nil
}

// Synchronize waits for the work of every open stream.
func (d *HostDevice) Synchronize() error {
	d.mu.Lock()
	ss := make([]*hostStream, 0, len(d.live))
	for s := range d.live {
		ss = append(ss, s)
	}
	d.mu.Unlock()
	for _, s := range ss {
		s.Synchronize()
	}
	return nil
}

// CopyKind tells a copy's direction.
type CopyKind uint8

// Copy directions.
const (
	HtoD CopyKind = iota
	DtoH
	DtoD
	// Func is a host function run in stream order (LaunchHost), the
	// stand-in's kernel.
	Func
)

func (k CopyKind) String() string {
	switch k {
	case HtoD:
		return "HtoD"
	case DtoH:
		return "DtoH"
	case DtoD:
		return "DtoD"
	case Func:
		return "Func"
	}
	return fmt.Sprintf("CopyKind(%d)", uint8(k))
}

// CopyRecord is one copy (or LaunchHost function) a HostDevice ran
// (HostOptions.Log).
type CopyRecord struct {
	Kind CopyKind
	// Off is the byte offset in device memory (the destination's for DtoD).
	Off   int
	Bytes int
	// Stream numbers the stream it ran on, in the order the device made
	// its streams (0, 1, ...).
	Stream int
	// Start and End bound the time it ran (after the CopyDelay).
	Start, End time.Time
}

// Copies returns the copies run so far, in completion order, and clears
// the log.
func (d *HostDevice) Copies() []CopyRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.copies
	d.copies = nil
	return c
}

// run runs one logged operation of stream s.
func (s *hostStream) run(k CopyKind, off, n int, f func()) {
	if k != Func {
		s.sleep()
	}
	d := s.dev
	if !d.log {
		f()
		return
	}
	t0 := time.Now()
	f()
	r := CopyRecord{Kind: k, Off: off, Bytes: n, Stream: s.num, Start: t0, End: time.Now()}
	d.mu.Lock()
	d.copies = append(d.copies, r)
	d.mu.Unlock()
}

// hostStream runs its work on a goroutine, in order.
type hostStream struct {
	dev    *HostDevice
	num    int
	ops    chan func()
	closed atomic.Bool
}

// NewStream starts a stream goroutine.
func (d *HostDevice) NewStream() (Stream, error) {
	s := &hostStream{dev: d, ops: make(chan func(), 256)}
	go func() {
		for op := range s.ops {
			op()
		}
	}()
	d.mu.Lock()
	d.live[s] = struct{}{}
	s.num = d.streams
	d.streams++
	d.mu.Unlock()
	return s, nil
}

func (s *hostStream) enqueue(call string, op func()) error {
	if s.closed.Load() {
		return errf(call, "stream on %s is closed", s.dev)
	}
	s.ops <- op
	return nil
}

func (s *hostStream) own(call string, m *Mem) error {
	if m != nil && m.dev != Device(s.dev) {
		return errf(call, "memory of %s used on a stream of %s", m.dev, s.dev)
	}
	return nil
}

func (s *hostStream) CopyHtoD(dst *Mem, off int, src []byte) error {
	if err := checkRange("CopyHtoD", dst, off, len(src)); err != nil {
		return err
	}
	if err := s.own("CopyHtoD", dst); err != nil {
		return err
	}
	return s.enqueue("CopyHtoD", func() {
		s.run(HtoD, off, len(src), func() { copy(dst.host[off:], src) })
	})
}

func (s *hostStream) CopyDtoH(dst []byte, src *Mem, off int) error {
	if err := checkRange("CopyDtoH", src, off, len(dst)); err != nil {
		return err
	}
	if err := s.own("CopyDtoH", src); err != nil {
		return err
	}
	return s.enqueue("CopyDtoH", func() {
		s.run(DtoH, off, len(dst), func() { copy(dst, src.host[off:off+len(dst)]) })
	})
}

func (s *hostStream) CopyDtoD(dst *Mem, dstOff int, src *Mem, srcOff, n int) error {
	if err := checkRange("CopyDtoD", dst, dstOff, n); err != nil {
		return err
	}
	if err := checkRange("CopyDtoD", src, srcOff, n); err != nil {
		return err
	}
	if err := s.own("CopyDtoD", dst); err != nil {
		return err
	}
	if err := s.own("CopyDtoD", src); err != nil {
		return err
	}
	return s.enqueue("CopyDtoD", func() {
		s.run(DtoD, dstOff, n, func() { copy(dst.host[dstOff:dstOff+n], src.host[srcOff:srcOff+n]) })
	})
}

func (s *hostStream) sleep() {
	if s.dev.delay > 0 {
		time.Sleep(s.dev.delay)
	}
}

func (s *hostStream) event(call string, e Event) (*hostEvent, error) {
	he, ok := e.(*hostEvent)
	if !ok || he == nil {
		return nil, errf(call, "event %T is not an event of %s", e, s.dev)
	}
	if he.dev != s.dev {
		return nil, errf(call, "event of %s used on a stream of %s", he.dev, s.dev)
	}
	return he, nil
}

func (s *hostStream) Record(e Event) error {
	he, err := s.event("Record", e)
	if err != nil {
		return err
	}
	ch := make(chan struct{})
	he.mu.Lock()
	he.cur = ch
	he.mu.Unlock()
	return s.enqueue("Record", func() { close(ch) })
}

func (s *hostStream) Wait(e Event) error {
	he, err := s.event("Wait", e)
	if err != nil {
		return err
	}
	ch := he.latest()
	if ch == nil {
		return nil
	}
	return s.enqueue("Wait", func() { <-ch })
}

func (s *hostStream) Synchronize() error {
	done := make(chan struct{})
	if err := s.enqueue("Synchronize", func() { close(done) }); err != nil {
		return err
	}
	<-done
	return nil
}

func (s *hostStream) Close() error {
	if err := s.Synchronize(); err != nil {
		return err
	}
	s.closed.Store(true)
	close(s.ops)
	s.dev.mu.Lock()
	delete(s.dev.live, s)
	s.dev.mu.Unlock()
	return nil
}

// hostEvent: each Record makes a channel that the stream closes when it
// reaches the record.
type hostEvent struct {
	dev *HostDevice
	mu  sync.Mutex
	cur chan struct{}
}

// NewEvent makes an event.
func (d *HostDevice) NewEvent() (Event, error) { return &hostEvent{dev: d}, nil }

func (e *hostEvent) latest() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cur
}

func (e *hostEvent) Synchronize() error {
	if ch := e.latest(); ch != nil {
		<-ch
	}
	return nil
}

func (e *hostEvent) Done() (bool, error) {
	ch := e.latest()
	if ch == nil {
		return true, nil
	}
	select {
	case <-ch:
		return true, nil
	default:
		return false, nil
	}
}

func (e *hostEvent) Close() error { return nil }
