package cudaaware_test

import (
	"fmt"
	"sync"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// Device tasks on two streams: b = a, then c = b. The second task's stream
// waits for the first's event, never the host; Wait is the one host
// synchronisation. The host stand-in plays the GPU; with -tags cuda,
// cudaaware.CUDA(0) would.
func ExampleGraph() {
	dev := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	a, _ := cudaaware.Alloc[float64](dev, 3)
	b, _ := cudaaware.Alloc[float64](dev, 3)
	c, _ := cudaaware.Alloc[float64](dev, 3)
	cudaaware.Upload(a, []float64{1, 2, 3})

	g, _ := cudaaware.NewGraph(dev, 2)
	defer g.Close()
	copyTo := func(dst, src cudaaware.Buffer[float64]) {
		g.Submit(func(s cudaaware.Stream) error {
			return s.CopyDtoD(dst.Mem(), dst.Offset(), src.Mem(), src.Offset(), src.Bytes())
		}, cudaaware.Reads(src), cudaaware.Writes(dst))
	}
	copyTo(b, a)
	copyTo(c, b)
	g.Wait()

	got := make([]float64, 3)
	cudaaware.Download(got, c)
	fmt.Println(got)
	// Output: [1 2 3]
}

// dagmpi device handles and tasks: two ranks (goroutines here, package
// inproc; under mpirun, processes over package p2p), each with its own
// device. x lives in rank 0's device memory; the task that doubles it into
// y runs on rank 1's device, so x moves device to device (staged through
// host buffers here). The kernel is a host function on the stand-in's
// stream; FetchAll returns host values.
func ExampleDagmpiDevice() {
	world, _ := inproc.NewWorld(inproc.Config{Ranks: 2})
	var wg sync.WaitGroup
	out := make([][]float64, 2)
	for r := range 2 {
		wg.Add(1)
		go func(tr dagmpi.Transport) {
			defer wg.Done()
			rt, _ := dagmpi.NewOwned(tr)
			defer rt.Close()
			pool, _ := rt.AddDevice(cudaaware.DagmpiDevice(cudaaware.NewHostDevice(cudaaware.HostOptions{})), dagmpi.DeviceOptions{Streams: 2})
			var init []float64
			if rt.Rank() == 0 {
				init = []float64{1, 2, 3}
			}
			x, _ := dagmpi.NewDeviceData(pool, 3, 0, init)
			y, _ := dagmpi.NewDeviceData[float64](pool, 3, 1, nil)
			rt.Submit(func(t *dagmpi.Task) error {
				xb, yb := cudaaware.TaskBuffer(x, t), cudaaware.TaskBuffer(y, t)
				return cudaaware.LaunchHost(cudaaware.TaskStream(t), func() { // enqueued, not run here
					xv, _ := cudaaware.HostView(xb)
					yv, _ := cudaaware.HostView(yb)
					for i := range yv {
						yv[i] = 2 * xv[i]
					}
				})
			}, x.Read(), y.Write(), dagmpi.OnDevice(pool))
			out[rt.Rank()], _ = y.FetchAll()
		}(world.Endpoint(r))
	}
	wg.Wait()
	fmt.Println(out[0], out[1])
	// Output: [2 4 6] [2 4 6]
}
