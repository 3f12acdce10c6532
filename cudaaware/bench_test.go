package cudaaware_test

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/mpi"
)

// fixedIterations skips unless -test.benchtime fixes the iteration count
// (-benchtime=100x): every rank must run the same number of ping-pongs.
func fixedIterations(b *testing.B) {
	f := flag.Lookup("test.benchtime")
	if f == nil || !strings.HasSuffix(f.Value.String(), "x") {
		b.Skip("MPI benchmarks need a fixed iteration count: -benchtime=Nx")
	}
	if mpi.World().Size() < 2 {
		b.Skip("needs 2 ranks")
	}
}

// benchDevices is the host stand-in and, where there is one, the GPU.
func benchDevices(b *testing.B) map[string]cudaaware.Device {
	ds := map[string]cudaaware.Device{"host": cudaaware.NewHostDevice(cudaaware.HostOptions{})}
	n, _ := cudaaware.CUDACount()
	least := []int32{0}
	mpi.Allreduce(mpi.World(), []int32{int32(n)}, least, mpi.Min)
	if least[0] > 0 {
		local, _ := mpi.World().SplitShared(0)
		d, err := cudaaware.CUDA(local.Rank() % n)
		local.Free()
		if err == nil {
			ds["gpu"] = d
		}
	}
	return ds
}

// BenchmarkPingPong bounces a device buffer between ranks 0 and 1: direct
// versus staged, and a chunk-size sweep of the staged pipeline. Bytes are
// counted one way per iteration, as OSU's bandwidth counts them. Direct on
// a GPU runs only when MPISupport reports a CUDA-aware MPI. Run with
//
//	SPMD_MPITEST_NP=2 go test -run '^$' -bench PingPong -benchtime 50x ./cudaaware
func BenchmarkPingPong(b *testing.B) {
	fixedIterations(b)
	c := mpi.World()
	aware := cudaaware.MPISupport().Aware
	devs := benchDevices(b)
	for _, dn := range []string{"host", "gpu"} {
		d, ok := devs[dn]
		if !ok {
			continue
		}
		type cfg struct {
			name string
			o    cudaaware.Options
		}
		var cfgs []cfg
		if dn == "host" || aware {
			cfgs = append(cfgs, cfg{"direct", cudaaware.Options{Path: cudaaware.Direct}})
		}
		for _, ch := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20} {
			cfgs = append(cfgs, cfg{fmt.Sprintf("staged-chunk%dK", ch>>10), cudaaware.Options{Path: cudaaware.Staged, ChunkBytes: ch}})
		}
		for _, size := range []int{8, 64 << 10, 1 << 20, 16 << 20} {
			for _, cf := range cfgs {
				if cf.o.Path == cudaaware.Staged && cf.o.ChunkBytes > max(size, 64<<10) {
					continue // all chunk sizes above the message are the same run
				}
				b.Run(fmt.Sprintf("%s/%s/%dB", dn, cf.name, size), func(b *testing.B) {
					p, err := cudaaware.NewPipeline(d, cf.o)
					if err != nil {
						b.Fatal(err)
					}
					defer p.Close()
					buf, err := cudaaware.Alloc[byte](d, size)
					if err != nil {
						b.Fatal(err)
					}
					defer buf.Free()
					b.SetBytes(int64(size))
					mpi.Barrier(c)
					b.ResetTimer()
					for range b.N {
						switch c.Rank() {
						case 0:
							cudaaware.SendDevice(p, c, buf, 1, 1)
							cudaaware.RecvDevice(p, c, buf, 1, 1)
						case 1:
							cudaaware.RecvDevice(p, c, buf, 0, 1)
							cudaaware.SendDevice(p, c, buf, 0, 1)
						}
					}
					b.StopTimer()
					mpi.Barrier(c)
				})
			}
		}
	}
}
