package dagmpi

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Mode is how a task accesses a Data.
type Mode uint8

const (
	Read      Mode = 1            // the task reads the latest version
	Write     Mode = 2            // the task overwrites every element; the old contents are not read
	ReadWrite Mode = Read | Write // the task reads the latest version and writes a new one
	modeMask       = Read | Write
)

func (m Mode) String() string {
	switch m {
	case Read:
		return "R"
	case Write:
		return "W"
	case ReadWrite:
		return "RW"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// handle is the untyped part of a Data.
type handle struct {
	rt    *Runtime
	id    int
	n     int // elements
	bytes int
	home  int
	alloc func() []byte // a fresh zeroed buffer, typed underneath

	// Submitter-owned metadata: the latest version's number and location,
	// this rank's replica of it, and (when it is located here) the ranks
	// it was already sent to.
	ver  uint64
	loc  int
	rep  *replica
	sent []int32
	// With WithBroadcastTree, on every rank: the ranks that read the
	// latest version elsewhere than at loc, in the order of their first
	// reading task (tree nodes 1, 2, ...).
	cons []int32

	dev *DevicePool // a device handle's pool (NewDeviceData), or nil
}

// Data is a distributed array of n elements of type T: a handle every rank
// knows, whose versions live on one rank each. Create it with NewData.
// Task bodies reach their local buffer with Buf.
type Data[T any] struct {
	h *handle
}

// NewData creates a handle for n elements of T whose version 0 lives on
// rank home. It is called by every rank in the same order with the same n
// and home (the call is local; the order is part of the checked
// submission). On the home rank the contents of init (nil for zeros) are
// copied; other ranks must pass nil. T must be a fixed-size type without
// pointers (numbers, bool, arrays and structs of them).
func NewData[T any](rt *Runtime, n, home int, init []T) (*Data[T], error) {
	if err := checkNew[T](rt, "NewData"); err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("dagmpi: NewData: negative length %d", n)
	}
	if home < 0 || home >= rt.size {
		return nil, fmt.Errorf("dagmpi: NewData: home rank %d outside [0, %d)", home, rt.size)
	}
	if init != nil {
		if rt.me != home {
			return nil, fmt.Errorf("dagmpi: NewData: init given on rank %d, but contents belong on the home rank %d only", rt.me, home)
		}
		if len(init) != n {
			return nil, fmt.Errorf("dagmpi: NewData: init has %d elements, want %d", len(init), n)
		}
	}
	var fill func([]T)
	if init != nil {
		fill = func(buf []T) { copy(buf, init) }
	}
	h := newHandle(rt, rt.ndata, n, home, fill)
	rt.ndata++
	rt.hash = mix(rt.hash, uint64(n)<<32^uint64(home)<<8^0xda7a)
	return &Data[T]{h: h}, nil
}

// checkNew checks what NewData and NewDataSet share: a live Runtime and a
// plain element type.
func checkNew[T any](rt *Runtime, call string) error {
	if rt == nil {
		panic(errNilRuntime)
	}
	if rt.closed {
		return ErrClosed
	}
	var zero T
	if err := checkPlain(reflect.TypeOf(zero)); err != nil {
		return fmt.Errorf("dagmpi: %s[%T]: %v", call, zero, err)
	}
	return nil
}

// newHandle makes the handle with the given id; on the home rank it
// allocates version 0 and lets fill (nil: zeros) write it.
func newHandle[T any](rt *Runtime, id, n, home int, fill func([]T)) *handle {
	var zero T
	h := &handle{
		rt:    rt,
		id:    id,
		n:     n,
		bytes: n * int(unsafe.Sizeof(zero)),
		home:  home,
		loc:   home,
		alloc: func() []byte { return bytesOf(make([]T, n)) },
	}
	if rt.me == home {
		buf := make([]T, n)
		if fill != nil {
			fill(buf)
		}
		h.rep = &replica{h: h, buf: bytesOf(buf), attached: true}
	}
	if g := rt.cfg.graph; g != nil {
		g.addData(h.id, home)
	}
	return h
}

// DataSet is count handles of T created on first use: NewDataSet reserves
// their identities at once, in O(1) on every rank, and At(k) makes handle k
// when a rank first needs it. A rank that submits only the tasks it takes
// part in (WithPruned) thus never pays for the handles it does not touch,
// as a structured generator over a large tiled matrix needs on many ranks.
// Handle k is the same on every rank as if NewData had been called count
// times, with the length and home that spec gives.
type DataSet[T any] struct {
	rt    *Runtime
	base  int
	spec  func(k int) (n, home int)
	fill  func(k int, buf []T)
	items []atomic.Pointer[Data[T]]
	mu    sync.Mutex
	moved map[int]int // handles not made yet whose newest version is not at home: where it is
}

// NewDataSet creates a set of count handles: handle k has spec(k)'s length
// and home rank, and on its home rank fill(k, buf) (nil: zeros) writes
// version 0 when the handle is made. Every rank calls it in the same order
// with the same count, and spec must give every rank the same answers.
// spec and fill must be deterministic and may run at any later time, once
// per handle; fill only on the home rank.
func NewDataSet[T any](rt *Runtime, count int, spec func(k int) (n, home int), fill func(k int, buf []T)) (*DataSet[T], error) {
	if err := checkNew[T](rt, "NewDataSet"); err != nil {
		return nil, err
	}
	if count < 0 {
		return nil, fmt.Errorf("dagmpi: NewDataSet: negative count %d", count)
	}
	if spec == nil {
		return nil, fmt.Errorf("dagmpi: NewDataSet: nil spec")
	}
	s := &DataSet[T]{rt: rt, base: rt.ndata, spec: spec, fill: fill, items: make([]atomic.Pointer[Data[T]], count)}
	rt.ndata += count
	rt.hash = mix(rt.hash, uint64(count)<<8^0xda7a5e7)
	return s, nil
}

// Len returns the number of handles in the set.
func (s *DataSet[T]) Len() int { return len(s.items) }

// Made returns how many handles of the set this rank has made so far.
func (s *DataSet[T]) Made() int {
	n := 0
	for i := range s.items {
		if s.items[i].Load() != nil {
			n++
		}
	}
	return n
}

// At returns handle k, making it on first use. It panics if k is outside
// the set or spec(k) gives a negative length or a home outside the ranks.
// It is safe for concurrent use.
func (s *DataSet[T]) At(k int) *Data[T] {
	if k < 0 || k >= len(s.items) {
		panic(fmt.Sprintf("dagmpi: DataSet.At(%d) outside a set of %d", k, len(s.items)))
	}
	if d := s.items[k].Load(); d != nil {
		return d
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.items[k].Load(); d != nil {
		return d
	}
	n, home := s.spec(k)
	if n < 0 || home < 0 || home >= s.rt.size {
		panic(fmt.Sprintf("dagmpi: DataSet.At(%d): spec gives length %d and home rank %d (ranks 0..%d)", k, n, home, s.rt.size-1))
	}
	var fill func([]T)
	if s.fill != nil {
		fill = func(buf []T) { s.fill(k, buf) }
	}
	d := &Data[T]{h: newHandle(s.rt, s.base+k, n, home, fill)}
	if loc, ok := s.moved[k]; ok {
		// Tasks this rank never saw wrote it elsewhere (ProducedOn); it
		// held no replica, so the location is all there is to carry.
		d.h.loc = loc
		delete(s.moved, k)
	}
	s.items[k].Store(d)
	return d
}

// ProducedOn is Data.ProducedOn for handle k, without making the handle
// when this rank has not used it yet: a pruned generator declares every
// version it leaves out, and most of those are of handles this rank never
// touches. Such a handle only records where its newest version is, and
// only when that is not its home rank.
func (s *DataSet[T]) ProducedOn(k, rank int) error {
	if k < 0 || k >= len(s.items) {
		return fmt.Errorf("dagmpi: DataSet.ProducedOn(%d, %d): outside a set of %d", k, rank, len(s.items))
	}
	if err := s.rt.checkProducedOn(rank); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.items[k].Load(); d != nil {
		s.rt.remoteWrite(d.h, rank)
		return nil
	}
	if _, home := s.spec(k); rank == home {
		delete(s.moved, k)
	} else {
		if s.moved == nil {
			s.moved = make(map[int]int)
		}
		s.moved[k] = rank
	}
	return nil
}

func bytesOf[T any](s []T) []byte {
	var zero T
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

func typed[T any](b []byte, n int) []T {
	if n == 0 {
		return []T{}
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// checkPlain accepts fixed-size types that hold no pointers.
func checkPlain(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return nil
	case reflect.Array:
		return checkPlain(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if err := checkPlain(t.Field(i).Type); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("element type %v holds pointers or has no fixed size", t)
}

// Len returns the number of elements.
func (d *Data[T]) Len() int { return d.h.n }

// Home returns the rank of version 0.
func (d *Data[T]) Home() int { return d.h.home }

// ID returns the handle's creation index (the same on every rank).
func (d *Data[T]) ID() int { return d.h.id }

// Read declares a read access, for Submit.
func (d *Data[T]) Read() Arg { return Arg{kind: argAccess, mode: Read, h: d.handle()} }

// Write declares a write access that overwrites every element, for Submit.
func (d *Data[T]) Write() Arg { return Arg{kind: argAccess, mode: Write, h: d.handle()} }

// ReadWrite declares a read-write access, for Submit.
func (d *Data[T]) ReadWrite() Arg { return Arg{kind: argAccess, mode: ReadWrite, h: d.handle()} }

func (d *Data[T]) handle() *handle {
	if d == nil {
		panic(errNilData)
	}
	return d.h
}

// Buf returns the task's local buffer of d. It panics if the task did not
// declare an access to d. With Read the task must not modify it; with Write
// its initial contents are unspecified and the task must set every element.
// The slice is valid only while the body runs (a received version may live
// in memory the transport lends, which it reuses once the version dies).
func (d *Data[T]) Buf(t *Task) []T {
	h := d.handle()
	if h.dev != nil {
		panic(errDeviceBuf)
	}
	for i := range t.op.acc {
		if t.op.acc[i].h == h {
			return typed[T](t.op.acc[i].rep.buf, h.n)
		}
	}
	panic(errNotInTask)
}

// ProducedOn declares, for pruned submission, that tasks this rank did not
// submit wrote the newest version of d on rank. A rank may leave out a task
// that it would not run and that reads no version located on this rank; for
// every Data such a task writes, the rank calls ProducedOn with the task's
// rank before it next submits a task that accesses the Data (or before
// Fetch). Calling it right where the task would have been submitted is
// always correct. Transfers are inferred exactly as without pruning.
func (d *Data[T]) ProducedOn(rank int) error {
	h := d.handle()
	if err := h.rt.checkProducedOn(rank); err != nil {
		return err
	}
	h.rt.remoteWrite(h, rank)
	return nil
}

// checkProducedOn checks the rank of a ProducedOn (of a Data or a DataSet).
func (rt *Runtime) checkProducedOn(rank int) error {
	if rt.closed {
		return ErrClosed
	}
	if rank < 0 || rank >= rt.size {
		return fmt.Errorf("dagmpi: ProducedOn(%d): rank outside [0, %d)", rank, rt.size)
	}
	if rank == rt.me {
		return fmt.Errorf("dagmpi: ProducedOn(%d): this rank runs the tasks that write there, so it must submit them", rank)
	}
	return nil
}

// Wait blocks until every operation this rank submitted on its replica of
// d's latest version has finished (tasks and sends reading it, the task or
// receive producing it). Sends of an older version that was since written
// on another rank are not waited for; Runtime.Wait covers everything. It is
// local.
func (d *Data[T]) Wait() error {
	h := d.handle()
	rt := h.rt
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for {
		if rt.err != nil {
			return rt.err
		}
		r := h.rep
		if r == nil || r.refs == 0 {
			return nil
		}
		rt.waitUserLocked(-1, r)
	}
}

// Fetch returns the latest version of d on rank root (nil on the other
// ranks), after the work submitted before it. It is collective: every rank
// calls it, and the rank holding the version sends it if needed.
func (d *Data[T]) Fetch(root int) ([]T, error) {
	h := d.handle()
	rt := h.rt
	if root < 0 || root >= rt.size {
		return nil, fmt.Errorf("dagmpi: Fetch(%d): root outside [0, %d)", root, rt.size)
	}
	if h.dev != nil {
		return fetchDevice(d, []int{root}) // device.go
	}
	var out []T
	if rt.me == root {
		out = make([]T, h.n)
	}
	err := rt.Submit(func(t *Task) error {
		copy(out, d.Buf(t))
		return nil
	}, d.Read(), OnRank(root), Name("dagmpi.Fetch"))
	if err != nil {
		return nil, err
	}
	if err := d.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// FetchAll returns the latest version of d on every rank. It is collective.
func (d *Data[T]) FetchAll() ([]T, error) {
	h := d.handle()
	rt := h.rt
	if h.dev != nil {
		roots := make([]int, rt.size)
		for r := range roots {
			roots[r] = r
		}
		return fetchDevice(d, roots) // device.go
	}
	out := make([]T, h.n)
	for r := 0; r < rt.size; r++ {
		err := rt.Submit(func(t *Task) error {
			copy(out, d.Buf(t))
			return nil
		}, d.Read(), OnRank(r), Name("dagmpi.FetchAll"))
		if err != nil {
			return nil, err
		}
	}
	if err := d.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
