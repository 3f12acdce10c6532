package cudaaware_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

// dagmpiCopies runs, on a dagmpi Runtime over MPI, device handles of d: X
// on rank 0, and on every rank r a chain of device tasks X -> Y_r -> Z_r
// (device-to-device copies on the pool's streams, ordered by events), so X
// moves to every rank as device memory; FetchAll of each Z_r gives X.
func dagmpiCopies(t *testing.T, d cudaaware.Device, n int) {
	rt, err := p2p.NewRuntime(mpi.World(), dagmpi.WithWorkers(2), dagmpi.WithWatchdog(30*time.Second))
	require.NoError(t, err)
	pool, err := rt.AddDevice(cudaaware.DagmpiDevice(d), dagmpi.DeviceOptions{Streams: 3, ChunkBytes: 1000})
	if !assert.NoError(t, err) {
		rt.Close()
		return
	}
	want := mpitest.Fill[float64](0, n)
	var init []float64
	if rt.Rank() == 0 {
		init = want
	}
	X, err := dagmpi.NewDeviceData(pool, n, 0, init)
	require.NoError(t, err)
	copyTask := func(dst, src *dagmpi.Data[float64], r int) {
		err := rt.Submit(func(t *dagmpi.Task) error {
			s, sb := cudaaware.TaskBuffer(dst, t), cudaaware.TaskBuffer(src, t)
			return cudaaware.TaskStream(t).CopyDtoD(s.Mem(), s.Offset(), sb.Mem(), sb.Offset(), sb.Bytes())
		}, src.Read(), dst.Write(), dagmpi.OnRank(r), dagmpi.OnDevice(pool), dagmpi.Name(fmt.Sprintf("copy to %d", r)))
		assert.NoError(t, err)
	}
	var Z []*dagmpi.Data[float64]
	for r := range rt.Size() {
		Y, err := dagmpi.NewDeviceData[float64](pool, n, r, nil)
		require.NoError(t, err)
		z, err := dagmpi.NewDeviceData[float64](pool, n, r, nil)
		require.NoError(t, err)
		copyTask(Y, X, r)
		copyTask(z, Y, r)
		Z = append(Z, z)
	}
	for r, z := range Z {
		got, err := z.FetchAll()
		assert.NoError(t, err)
		assert.Equal(t, want, got, "Z_%d on rank %d (%v path)", r, rt.Rank(), pool.Path())
	}
	assert.NoError(t, rt.Close())
}

// TestDagmpiHostDevice runs dagmpiCopies on the host stand-in, with slowed
// copies.
func TestDagmpiHostDevice(t *testing.T) {
	dagmpiCopies(t, cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: 100 * time.Microsecond}), 1234)
}

// TestGPUDagmpi runs dagmpiCopies on a GPU (or the fake libcudart): dagmpi
// device handles in device memory, moved staged, or direct with a
// CUDA-aware MPI (SPMD_CUDA_AWARE=1).
func TestGPUDagmpi(t *testing.T) {
	dagmpiCopies(t, gpu(t), 1234)
}
