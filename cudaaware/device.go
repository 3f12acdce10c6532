package cudaaware

import (
	"sync"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// Device is a GPU, or the host stand-in (HostDevice) that runs the same
// code on host memory. Its methods are safe for concurrent use. The
// interface is sealed: the implementations are this package's CUDA device
// (CUDA, with the cuda build tag) and HostDevice.
type Device interface {
	// String names the device, for messages.
	String() string
	// Alloc allocates bytes of device memory.
	Alloc(bytes int) (*Mem, error)
	// AllocHost allocates bytes of pinned (page-locked) host memory, the
	// kind asynchronous copies need to be asynchronous and CUDA-unaware MPI
	// can read. Its Bytes are not Go memory: keep them only while the
	// HostMem is not freed.
	AllocHost(bytes int) (*HostMem, error)
	// NewStream makes a stream: a queue of copies that run in order, and
	// concurrently with other streams' work and with the host.
	NewStream() (Stream, error)
	// NewEvent makes an event, a marker recorded on a stream.
	NewEvent() (Event, error)
	// Synchronize waits for all work on the device to finish.
	Synchronize() error

	// host reports whether device memory is host memory (the stand-in),
	// which any MPI can read.
	host() bool
}

// Stream is an ordered queue of asynchronous work on one device. The
// enqueueing methods return at once; the host memory a copy reads or
// writes must stay valid and, for a read, unmodified until the copy
// completes (an event recorded after it completes, or Synchronize returns).
// A Stream is used by one goroutine at a time.
type Stream interface {
	// CopyHtoD enqueues a copy of src to dst at byte offset off.
	CopyHtoD(dst *Mem, off int, src []byte) error
	// CopyDtoH enqueues a copy of len(dst) bytes of src at byte offset off
	// to dst.
	CopyDtoH(dst []byte, src *Mem, off int) error
	// CopyDtoD enqueues a copy of n bytes from src at srcOff to dst at
	// dstOff.
	CopyDtoD(dst *Mem, dstOff int, src *Mem, srcOff, n int) error
	// Record enqueues e: e completes when the work enqueued before it has.
	Record(e Event) error
	// Wait makes the work enqueued after it wait until e's latest record
	// (as of this call) completes, without blocking the host: this is how
	// work on one stream depends on work on another.
	Wait(e Event) error
	// Synchronize blocks until everything enqueued so far has completed.
	Synchronize() error
	// Close waits for the stream's work and releases it.
	Close() error
}

// Event marks a point in a stream (Stream.Record). An event that was never
// recorded is complete.
type Event interface {
	// Synchronize blocks until the work before the latest record completes.
	Synchronize() error
	// Done reports, without blocking, whether it has.
	Done() (bool, error)
	// Close releases the event.
	Close() error
}

// Mem is an allocation of device memory (Device.Alloc). Its address is
// not a Go pointer: the host must not dereference it (except on the host
// stand-in), only hand it to copies, kernels and CUDA-aware MPI.
type Mem struct {
	dev  Device
	ptr  unsafe.Pointer
	n    int
	host []byte // the stand-in's memory; nil on a GPU
	free func() error
	once sync.Once
	err  error
}

// Device returns the device m lives on.
func (m *Mem) Device() Device { return m.dev }

// Len returns m's size in bytes.
func (m *Mem) Len() int { return m.n }

// Ptr returns m's device address (nil for a zero-byte allocation).
func (m *Mem) Ptr() unsafe.Pointer { return m.ptr }

// Free releases m. Later calls return the first call's result.
func (m *Mem) Free() error {
	m.once.Do(func() {
		if m.free != nil {
			m.err = m.free()
		}
		m.ptr, m.host = nil, nil
	})
	return m.err
}

// at returns the device address at byte offset off.
func (m *Mem) at(off int) unsafe.Pointer {
	if m.ptr == nil {
		return nil
	}
	return unsafe.Add(m.ptr, off)
}

// HostMem is pinned host memory (Device.AllocHost).
type HostMem struct {
	b    []byte
	free func() error
	once sync.Once
	err  error
}

// Bytes returns the memory; it is valid until Free.
func (h *HostMem) Bytes() []byte { return h.b }

// Free releases h. Later calls return the first call's result.
func (h *HostMem) Free() error {
	h.once.Do(func() {
		if h.free != nil {
			h.err = h.free()
		}
		h.b = nil
	})
	return h.err
}

// checkRange checks that [off, off+n) lies in m.
func checkRange(call string, m *Mem, off, n int) error {
	if m == nil {
		return errf(call, "nil device memory")
	}
	if off < 0 || n < 0 || off > m.n || n > m.n-off {
		return errf(call, "range [%d, %d+%d) outside the %d-byte allocation on %s", off, off, n, m.n, m.dev)
	}
	if m.n > 0 && m.ptr == nil {
		return errf(call, "device memory on %s was freed", m.dev)
	}
	return nil
}

// Buffer is n elements of T in device memory: the device buffer kind that
// SendDevice and RecvDevice move. It is a small value (memory, byte offset,
// length) and does not own the memory: slices of one allocation share it.
type Buffer[T mpi.Elem] struct {
	mem *Mem
	off int // bytes
	n   int // elements
}

// Alloc allocates a buffer of n elements of T on d.
func Alloc[T mpi.Elem](d Device, n int) (Buffer[T], error) {
	if n < 0 {
		return Buffer[T]{}, errf("Alloc", "negative length %d", n)
	}
	m, err := d.Alloc(n * mpi.ElemSize[T]())
	if err != nil {
		return Buffer[T]{}, err
	}
	return Buffer[T]{mem: m, n: n}, nil
}

// View returns the buffer of n elements of T at byte offset off of m.
func View[T mpi.Elem](m *Mem, off, n int) (Buffer[T], error) {
	if err := checkRange("View", m, off, n*mpi.ElemSize[T]()); err != nil {
		return Buffer[T]{}, err
	}
	return Buffer[T]{mem: m, off: off, n: n}, nil
}

// Len returns the number of elements.
func (b Buffer[T]) Len() int { return b.n }

// Bytes returns the size in bytes.
func (b Buffer[T]) Bytes() int { return b.n * mpi.ElemSize[T]() }

// Mem returns the allocation b lies in, and Offset b's byte offset in it.
func (b Buffer[T]) Mem() *Mem { return b.mem }

// Offset returns b's byte offset in its allocation.
func (b Buffer[T]) Offset() int { return b.off }

// Device returns the device b lives on.
func (b Buffer[T]) Device() Device { return b.mem.dev }

// Slice returns elements [i, j) of b. It panics if the range is not in b,
// like slicing a Go slice.
func (b Buffer[T]) Slice(i, j int) Buffer[T] {
	if i < 0 || j < i || j > b.n {
		panic("cudaaware: Buffer.Slice bounds out of range")
	}
	return Buffer[T]{mem: b.mem, off: b.off + i*mpi.ElemSize[T](), n: j - i}
}

// Free frees b's allocation (the whole of it, if b is a slice).
func (b Buffer[T]) Free() error {
	if b.mem == nil {
		return nil
	}
	return b.mem.Free()
}

// asBytes returns s's memory as bytes.
func asBytes[T mpi.Elem](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*mpi.ElemSize[T]())
}

// asElems returns the first n elements of T in b's memory.
func asElems[T mpi.Elem](b []byte, n int) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// Upload copies src into dst (len(src) must equal dst.Len()) and waits for
// the copy, on a stream of its own.
func Upload[T mpi.Elem](dst Buffer[T], src []T) error {
	if len(src) != dst.n {
		return errf("Upload", "%d elements into a buffer of %d", len(src), dst.n)
	}
	return onStream(dst.mem, func(s Stream) error { return s.CopyHtoD(dst.mem, dst.off, asBytes(src)) })
}

// Download copies src into dst (len(dst) must equal src.Len()) and waits
// for the copy, on a stream of its own.
func Download[T mpi.Elem](dst []T, src Buffer[T]) error {
	if len(dst) != src.n {
		return errf("Download", "a buffer of %d elements into %d", src.n, len(dst))
	}
	return onStream(src.mem, func(s Stream) error { return s.CopyDtoH(asBytes(dst), src.mem, src.off) })
}

func onStream(m *Mem, f func(Stream) error) error {
	if m == nil {
		return errf("copy", "nil device memory (zero Buffer)")
	}
	s, err := m.dev.NewStream()
	if err != nil {
		return err
	}
	err = f(s)
	if e := s.Close(); err == nil {
		err = e
	}
	return err
}
