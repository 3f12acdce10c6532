package cudaaware_test

import (
	"fmt"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/mpi"
)

// Each rank sends a device buffer to itself through the staged pipeline
// (the sender on a goroutine) and reads back what arrived. The host
// stand-in plays the GPU; with -tags cuda, cudaaware.CUDA(0) would.
func Example() {
	c := mpi.World()
	dev := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	opt := cudaaware.Options{Path: cudaaware.Staged, ChunkBytes: 16} // 2 float64 per chunk
	sp, _ := cudaaware.NewPipeline(dev, opt)
	defer sp.Close()
	rp, _ := cudaaware.NewPipeline(dev, opt)
	defer rp.Close()

	src, _ := cudaaware.Alloc[float64](dev, 5)
	dst, _ := cudaaware.Alloc[float64](dev, 5)
	cudaaware.Upload(src, []float64{1, 2, 3, 4, 5})

	me := c.Rank()
	sent := make(chan error, 1)
	go func() { sent <- cudaaware.SendDevice(sp, c, src, me, 0) }()
	st, err := cudaaware.RecvDevice(rp, c, dst, me, 0)
	if err != nil || <-sent != nil {
		fmt.Println("transfer failed:", err)
		return
	}
	got := make([]float64, 5)
	cudaaware.Download(got, dst)
	fmt.Println(st.Count, got)
	// Output: 5 [1 2 3 4 5]
}
