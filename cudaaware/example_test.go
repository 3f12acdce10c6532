package cudaaware_test

import (
	"fmt"

	"github.com/spmd-go/spmd/cudaaware"
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
