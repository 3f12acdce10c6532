package p2p

import (
	"unsafe"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/mpi"
)

var _ dagmpi.DeviceTransport = (*Transport)(nil)

// SendDevice implements dagmpi.DeviceTransport: it sends bytes of device
// memory from byte offset off of mem with MPI_Isend on the device address,
// which only a CUDA-aware MPI accepts (dagmpi takes this path only when the
// Device says MPI is CUDA-aware, or its memory is host memory).
func (t *Transport) SendDevice(mem dagmpi.DeviceMem, off, bytes, dst, tag int, id uint64) error {
	if err := t.check("SendDevice", dst, tag); err != nil {
		return err
	}
	r, err := mpi.IsendUnsafe[byte](t.comm, devAddr(mem, off, bytes), bytes, dst, tag)
	if err != nil {
		return err
	}
	return t.add(r, reqMeta{id: id, n: bytes, send: true})
}

// RecvDevice implements dagmpi.DeviceTransport: MPI_Irecv into device
// memory (CUDA-aware MPI only).
func (t *Transport) RecvDevice(mem dagmpi.DeviceMem, off, bytes, src, tag int, id uint64) error {
	if err := t.check("RecvDevice", src, tag); err != nil {
		return err
	}
	r, err := mpi.IrecvUnsafe[byte](t.comm, devAddr(mem, off, bytes), bytes, src, tag)
	if err != nil {
		return err
	}
	return t.add(r, reqMeta{id: id, n: bytes})
}

// devAddr is the device address at byte offset off of mem, checked against
// its length by the caller's (dagmpi's) chunking; nil for an empty range.
func devAddr(mem dagmpi.DeviceMem, off, bytes int) unsafe.Pointer {
	if bytes == 0 || mem.Ptr() == nil {
		return nil
	}
	if off < 0 || off+bytes > mem.Len() {
		panic("p2p: device range outside its allocation")
	}
	return unsafe.Add(mem.Ptr(), off)
}
