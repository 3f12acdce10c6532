package cudaaware_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

// gpu returns this rank's GPU (local rank modulo the node's devices), or
// skips on every rank if any rank has none: the decision is agreed so the
// ranks stay in step.
func gpu(t testing.TB) cudaaware.Device {
	n, err := cudaaware.CUDACount()
	have := []int32{int32(n)}
	least := []int32{0}
	require.NoError(t, mpi.Allreduce(mpi.World(), have, least, mpi.Min))
	if least[0] == 0 {
		if err == nil {
			err = fmt.Errorf("another rank has no GPU")
		}
		t.Skipf("no GPU: %v", err)
	}
	local, err := mpi.World().SplitShared(0)
	require.NoError(t, err)
	defer local.Free()
	d, err := cudaaware.CUDA(local.Rank() % n)
	require.NoError(t, err)
	return d
}

// multiStreamChain copies x through k buffers, each copy on its own
// stream and ordered after the previous one by an event (no host
// synchronisation in between), and checks the last buffer holds x.
func multiStreamChain(t *testing.T, d cudaaware.Device, k, n int) {
	want := mpitest.Fill[float64](mpi.World().Rank(), n)
	x, err := cudaaware.Alloc[float64](d, n)
	require.NoError(t, err)
	defer x.Free()
	require.NoError(t, cudaaware.Upload(x, want))
	prev := x
	var prevEv cudaaware.Event
	var streams []cudaaware.Stream
	for i := range k {
		s, err := d.NewStream()
		require.NoError(t, err)
		streams = append(streams, s)
		y, err := cudaaware.Alloc[float64](d, n)
		require.NoError(t, err)
		defer y.Free()
		if prevEv != nil {
			require.NoError(t, s.Wait(prevEv))
		}
		require.NoError(t, s.CopyDtoD(y.Mem(), 0, prev.Mem(), 0, n*8), "stream %d", i)
		ev, err := d.NewEvent()
		require.NoError(t, err)
		defer ev.Close()
		require.NoError(t, s.Record(ev))
		prev, prevEv = y, ev
	}
	require.NoError(t, prevEv.Synchronize())
	got := make([]float64, n)
	require.NoError(t, cudaaware.Download(got, prev))
	assert.Equal(t, want, got)
	for _, s := range streams {
		assert.NoError(t, s.Close())
	}
}

func TestMultiStreamChainHost(t *testing.T) {
	d := cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: time.Millisecond})
	multiStreamChain(t, d, 8, 1000)
}

func TestGPUMultiStreamChain(t *testing.T) {
	d := gpu(t)
	multiStreamChain(t, d, 8, 1<<18)
}

// TestGPUPingPong bounces values between device buffers of ranks 0 and 1,
// on the path MPISupport chooses and on the staged path forced.
func TestGPUPingPong(t *testing.T) {
	d := gpu(t)
	c := mpi.World()
	if c.Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	for _, path := range []cudaaware.Path{cudaaware.Auto, cudaaware.Staged} {
		for _, n := range []int{1, 1000, 1 << 20} {
			t.Run(fmt.Sprintf("%v/n%d", path, n), func(t *testing.T) {
				p, err := cudaaware.NewPipeline(d, cudaaware.Options{Path: path, ChunkBytes: 256 << 10})
				require.NoError(t, err)
				defer p.Close()
				buf, err := cudaaware.Alloc[float64](d, n)
				require.NoError(t, err)
				defer buf.Free()
				want := mpitest.Fill[float64](0, n)
				switch c.Rank() {
				case 0:
					require.NoError(t, cudaaware.Upload(buf, want))
					require.NoError(t, cudaaware.SendDevice(p, c, buf, 1, 1))
					require.NoError(t, cudaaware.Upload(buf, make([]float64, n)))
					_, err := cudaaware.RecvDevice(p, c, buf, 1, 2)
					require.NoError(t, err)
					got := make([]float64, n)
					require.NoError(t, cudaaware.Download(got, buf))
					assert.Equal(t, want, got, "the value came back")
				case 1:
					_, err := cudaaware.RecvDevice(p, c, buf, 0, 1)
					require.NoError(t, err)
					require.NoError(t, cudaaware.SendDevice(p, c, buf, 0, 2))
				}
			})
		}
	}
}

// TestGPUDirectNeedsAwareMPI: forcing the direct path on a GPU when MPI is
// not known to be CUDA-aware is refused, since MPI would read device
// addresses as host memory.
func TestGPUDirectNeedsAwareMPI(t *testing.T) {
	d := gpu(t)
	if s := cudaaware.MPISupport(); s.Aware {
		t.Skipf("%v: the direct path is allowed", s)
	}
	_, err := cudaaware.NewPipeline(d, cudaaware.Options{Path: cudaaware.Direct})
	assert.ErrorContains(t, err, "set SPMD_CUDA_AWARE=1 if the library is CUDA-aware")
}
