package cudaaware_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/internal/mpitest"
)

// TestHostStreamDependency checks the stand-in's stream semantics, which
// the pipeline tests rely on: copies are asynchronous (an event is not done
// while a slow copy runs), ordered within a stream, and Stream.Wait makes a
// second stream wait for the first without blocking the host.
func TestHostStreamDependency(t *testing.T) {
	d := cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: 20 * time.Millisecond, Log: true})
	const n = 64
	x, err := cudaaware.Alloc[float64](d, n)
	require.NoError(t, err)
	y, _ := cudaaware.Alloc[float64](d, n)
	z, _ := cudaaware.Alloc[float64](d, n)
	want := mpitest.Fill[float64](3, n)
	require.NoError(t, cudaaware.Upload(x, want))
	d.Copies()

	a, _ := d.NewStream()
	b, _ := d.NewStream()
	e, _ := d.NewEvent()
	done, err := e.Done()
	assert.NoError(t, err)
	assert.True(t, done, "an event never recorded is complete")

	require.NoError(t, a.CopyDtoD(y.Mem(), 0, x.Mem(), 0, n*8)) // slow
	require.NoError(t, a.Record(e))
	require.NoError(t, b.Wait(e))
	require.NoError(t, b.CopyDtoD(z.Mem(), 0, y.Mem(), 0, n*8)) // must see y filled
	done, _ = e.Done()
	assert.False(t, done, "event done before the 20ms copy before it could have run")
	require.NoError(t, b.Synchronize())
	done, _ = e.Done()
	assert.True(t, done)

	got := make([]float64, n)
	require.NoError(t, cudaaware.Download(got, z))
	assert.Equal(t, want, got, "the second stream's copy ran before the first's")
	log := d.Copies()
	require.Len(t, log, 3)
	assert.Equal(t, cudaaware.DtoD, log[0].Kind)
	assert.Equal(t, cudaaware.DtoD, log[1].Kind)
	assert.Equal(t, cudaaware.DtoH, log[2].Kind)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	assert.Error(t, a.CopyDtoD(z.Mem(), 0, y.Mem(), 0, 8), "copy on a closed stream")
}

func TestHostDeviceErrors(t *testing.T) {
	d := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	other := cudaaware.NewHostDevice(cudaaware.HostOptions{Name: "other stand-in"})
	m, err := d.Alloc(16)
	require.NoError(t, err)
	s, _ := d.NewStream()
	defer s.Close()
	err = s.CopyHtoD(m, 8, make([]byte, 9))
	assert.ErrorContains(t, err, "range [8, 8+9) outside the 16-byte allocation")
	err = s.CopyDtoH(make([]byte, 4), m, -1)
	assert.ErrorContains(t, err, "outside")
	om, _ := other.Alloc(16)
	assert.ErrorContains(t, s.CopyDtoD(m, 0, om, 0, 4), "memory of other stand-in used on a stream of host stand-in")
	oe, _ := other.NewEvent()
	assert.ErrorContains(t, s.Record(oe), "event of other stand-in")
	_, err = d.Alloc(-1)
	assert.Error(t, err)
	_, err = cudaaware.Alloc[float64](d, -2)
	assert.ErrorContains(t, err, "negative length -2")
	require.NoError(t, m.Free())
	assert.ErrorContains(t, s.CopyHtoD(m, 0, make([]byte, 4)), "freed")
	assert.NoError(t, m.Free(), "a second Free returns the first's result")

	b, _ := cudaaware.Alloc[int32](d, 10)
	assert.Equal(t, 3, b.Slice(2, 5).Len())
	assert.Equal(t, 8, b.Slice(2, 5).Offset())
	assert.Panics(t, func() { b.Slice(4, 11) })
	_, err = cudaaware.View[int32](b.Mem(), 4, 10)
	assert.Error(t, err, "a view past the allocation's end")
	assert.ErrorContains(t, cudaaware.Upload(b, make([]int32, 3)), "3 elements into a buffer of 10")
}

// TestCUDAAbsent: on a machine without a GPU (or without the cuda tag)
// CUDA reports ErrNoCUDA with a reason rather than failing later.
func TestCUDAAbsent(t *testing.T) {
	n, err := cudaaware.CUDACount()
	if err == nil {
		t.Skipf("%d CUDA devices present: the absent-CUDA path is not exercised here", n)
	}
	assert.True(t, errors.Is(err, cudaaware.ErrNoCUDA), "%v", err)
	t.Logf("CUDACount: %v", err)
	_, err = cudaaware.CUDA(0)
	assert.True(t, errors.Is(err, cudaaware.ErrNoCUDA), "%v", err)
}
