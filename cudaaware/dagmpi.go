package cudaaware

import (
	"fmt"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/mpi"
)

// DagmpiDevice returns d as the dagmpi.Device that Runtime.AddDevice takes,
// so that dagmpi handles live in d's memory (dagmpi.NewDeviceData) and
// dagmpi tasks run on d's streams (dagmpi.OnDevice). Its transfers go
// directly from device memory when MPISupport reports a CUDA-aware MPI,
// and through pinned host memory otherwise.
func DagmpiDevice(d Device) dagmpi.Device { return dagDevice{d} }

// dagDevice adapts a Device to dagmpi's interface; its memory is *Mem, its
// events this package's Events, its streams wrap this package's Streams.
type dagDevice struct{ d Device }

var (
	_ dagmpi.Device    = dagDevice{}
	_ dagmpi.DeviceMem = (*Mem)(nil)
)

func (a dagDevice) String() string { return a.d.String() }

func (a dagDevice) Alloc(bytes int) (dagmpi.DeviceMem, error) {
	m, err := a.d.Alloc(bytes)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (a dagDevice) AllocHost(bytes int) ([]byte, func() error, error) {
	h, err := a.d.AllocHost(bytes)
	if err != nil {
		return nil, nil, err
	}
	return h.Bytes(), h.Free, nil
}

func (a dagDevice) NewStream() (dagmpi.DeviceStream, error) {
	s, err := a.d.NewStream()
	if err != nil {
		return nil, err
	}
	return dagStream{s}, nil
}

func (a dagDevice) NewEvent() (dagmpi.DeviceEvent, error) { return a.d.NewEvent() }

func (a dagDevice) Direct() bool { return MPISupport().Aware }

// dagStream adapts a Stream to dagmpi.DeviceStream.
type dagStream struct{ s Stream }

func asMem(call string, m dagmpi.DeviceMem) (*Mem, error) {
	mm, ok := m.(*Mem)
	if !ok || mm == nil {
		return nil, errf(call, "device memory %T is not this package's", m)
	}
	return mm, nil
}

func asEvent(call string, e dagmpi.DeviceEvent) (Event, error) {
	ev, ok := e.(Event)
	if !ok || ev == nil {
		return nil, errf(call, "event %T is not this package's", e)
	}
	return ev, nil
}

func (a dagStream) CopyHtoD(dst dagmpi.DeviceMem, off int, src []byte) error {
	m, err := asMem("CopyHtoD", dst)
	if err != nil {
		return err
	}
	return a.s.CopyHtoD(m, off, src)
}

func (a dagStream) CopyDtoH(dst []byte, src dagmpi.DeviceMem, off int) error {
	m, err := asMem("CopyDtoH", src)
	if err != nil {
		return err
	}
	return a.s.CopyDtoH(dst, m, off)
}

func (a dagStream) Record(e dagmpi.DeviceEvent) error {
	ev, err := asEvent("Record", e)
	if err != nil {
		return err
	}
	return a.s.Record(ev)
}

func (a dagStream) Wait(e dagmpi.DeviceEvent) error {
	ev, err := asEvent("Wait", e)
	if err != nil {
		return err
	}
	return a.s.Wait(ev)
}

func (a dagStream) Synchronize() error { return a.s.Synchronize() }
func (a dagStream) Close() error       { return a.s.Close() }

// TaskStream returns the stream of a dagmpi device task (submitted with
// dagmpi.OnDevice on a pool of a DagmpiDevice), nil for a host task. The
// body enqueues its work there and returns without waiting for it.
func TaskStream(t *dagmpi.Task) Stream {
	if s, ok := t.Stream().(dagStream); ok {
		return s.s
	}
	return nil
}

// TaskBuffer returns the task's replica of the device handle d as a
// Buffer, valid while the body runs (the work it enqueues may use it until
// it completes).
func TaskBuffer[T mpi.Elem](d *dagmpi.Data[T], t *dagmpi.Task) Buffer[T] {
	m, ok := d.Mem(t).(*Mem)
	if !ok {
		panic(fmt.Sprintf("cudaaware: TaskBuffer: Data %d is not on a DagmpiDevice", d.ID()))
	}
	return Buffer[T]{mem: m, n: d.Len()}
}

// LaunchHost enqueues f on s, a stream of a HostDevice: f runs in stream
// order, after the work enqueued before it and before the work enqueued
// after it, as a kernel would on a GPU. It is the host stand-in's kernel;
// GPU streams return an error (no kernels are wrapped).
func LaunchHost(s Stream, f func()) error {
	hs, ok := s.(*hostStream)
	if !ok {
		return errf("LaunchHost", "stream %T is not a HostDevice stream: kernels on GPUs are not wrapped", s)
	}
	return hs.enqueue("LaunchHost", func() { hs.run(Func, 0, 0, f) })
}

// HostView returns the stand-in device memory of b as a slice of T, for
// LaunchHost functions. Only a HostDevice's memory is host memory: on a GPU
// it returns an error.
func HostView[T mpi.Elem](b Buffer[T]) ([]T, error) {
	if b.mem == nil || b.mem.host == nil && b.n > 0 {
		return nil, errf("HostView", "buffer is not in a HostDevice's memory")
	}
	return asElems[T](b.mem.host[b.off:], b.n), nil
}
