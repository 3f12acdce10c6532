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

// BenchmarkGraphStreams runs 32 independent device-to-device tile copies
// per iteration through a Graph on 1, 2, 4 and 8 streams: the throughput
// of independent tasks against the single-stream run. It is local (no MPI
// call), so b.N may differ between ranks; run it at one rank:
//
//	SPMD_MPITEST_NP=1 go test -run '^$' -bench GraphStreams ./cudaaware
//
// On the host stand-in a copy is a Go copy on the stream's goroutine; on a
// GPU (-tags cuda) it is cudaMemcpyAsync. Copies stand in for the GEMM tile
// kernels of issue 8, which need cuBLAS.
func BenchmarkGraphStreams(b *testing.B) {
	const tiles, tileBytes = 32, 1 << 20
	devs := map[string]cudaaware.Device{"host": cudaaware.NewHostDevice(cudaaware.HostOptions{})}
	if n, err := cudaaware.CUDACount(); err == nil && n > 0 {
		if d, err := cudaaware.CUDA(0); err == nil {
			devs["gpu"] = d
		}
	}
	for _, dn := range []string{"host", "gpu"} {
		d, ok := devs[dn]
		if !ok {
			continue
		}
		var src, dst []cudaaware.Buffer[byte]
		for range tiles {
			s, err := cudaaware.Alloc[byte](d, tileBytes)
			if err != nil {
				b.Fatal(err)
			}
			t, err := cudaaware.Alloc[byte](d, tileBytes)
			if err != nil {
				b.Fatal(err)
			}
			src, dst = append(src, s), append(dst, t)
		}
		for _, k := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("%s/streams%d", dn, k), func(b *testing.B) {
				g, err := cudaaware.NewGraph(d, k)
				if err != nil {
					b.Fatal(err)
				}
				defer g.Close()
				b.SetBytes(tiles * tileBytes)
				for range b.N {
					for i := range tiles {
						s, t := src[i], dst[i]
						g.Submit(func(st cudaaware.Stream) error {
							return st.CopyDtoD(t.Mem(), 0, s.Mem(), 0, tileBytes)
						}, cudaaware.Reads(s), cudaaware.Writes(t))
					}
					if err := g.Wait(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for i := range src {
			src[i].Free()
			dst[i].Free()
		}
	}
}
