package p2p_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/internal/devgraph"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/internal/mpitest"
)

// TestDeviceGraph runs the device task graph (device GEMM tiles on
// several streams, a reduction across ranks, a write after read) over MPI
// with device handles on a HostDevice, staged through host buffers and
// direct (SPMD_CUDA_AWARE=1: MPI gets the stand-in's memory, which is host
// memory), and compares with the serial result.
func TestDeviceGraph(t *testing.T) {
	const tiles, k, chunk = 8, 12, 256
	want := devgraph.Serial(tiles, k)
	for _, aware := range []string{"0", "1"} {
		t.Run("aware="+aware, func(t *testing.T) {
			t.Setenv(cudaaware.EnvAware, aware)
			rt, err := p2p.NewRuntime(mpitest.World(), dagmpi.WithWorkers(2), dagmpi.WithWatchdog(30*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			dev := cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: 100 * time.Microsecond, Log: true})
			s0, sAll, err := devgraph.Run(rt, dev, dagmpi.DeviceOptions{Streams: 4, ChunkBytes: chunk}, tiles, k)
			assert.NoError(t, err)
			assert.NoError(t, rt.Close())
			if rt.Rank() == 0 {
				assert.Equal(t, want, s0, "Fetch(0)")
			} else {
				assert.Nil(t, s0, "Fetch(0) off the root")
			}
			assert.Equal(t, want, sAll, "FetchAll")
			// Staged transfers copy whole chunks through host memory; direct
			// ones copy nothing (the graph's own copies are whole tiles).
			chunks := 0
			for _, c := range dev.Copies() {
				if c.Bytes == chunk && (c.Kind == cudaaware.DtoH || c.Kind == cudaaware.HtoD) {
					chunks++
				}
			}
			switch {
			case rt.Size() == 1:
			case aware == "1":
				assert.Zero(t, chunks, "direct transfers staged %d chunks", chunks)
			default:
				assert.NotZero(t, chunks, "staged transfers copied no chunks")
			}
		})
	}
}
