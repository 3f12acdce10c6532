package dagmpi_test

import (
	"fmt"
	"sync"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// Every rank runs the same program; here two ranks are goroutines of one
// process (package inproc). Under mpirun each would be a process with a
// p2p.Transport instead.
func Example() {
	world, _ := inproc.NewWorld(inproc.Config{Ranks: 2})
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func(tr dagmpi.Transport) {
			defer wg.Done()
			rt, err := dagmpi.New(tr, dagmpi.WithWorkers(2))
			if err != nil {
				panic(err)
			}
			defer rt.Close()
			// x lives on rank 0, y on rank 1; contents only on the home rank.
			var xs, ys []float64
			if rt.Rank() == 0 {
				xs = []float64{1, 2, 3}
			} else {
				ys = []float64{10, 20, 30}
			}
			x, _ := dagmpi.NewData(rt, 3, 0, xs)
			y, _ := dagmpi.NewData(rt, 3, 1, ys)
			// Runs on rank 0 (it writes x).
			rt.Submit(func(t *dagmpi.Task) error {
				for i := range x.Buf(t) {
					x.Buf(t)[i] *= 2
				}
				return nil
			}, x.ReadWrite(), dagmpi.Name("scale"))
			// Runs on rank 1 (it writes y): x moves from rank 0 to rank 1.
			rt.Submit(func(t *dagmpi.Task) error {
				xv, yv := x.Buf(t), y.Buf(t)
				for i := range yv {
					yv[i] += xv[i]
				}
				return nil
			}, x.Read(), y.ReadWrite(), dagmpi.Name("axpy"))
			v, err := y.Fetch(0)
			if err != nil {
				panic(err)
			}
			if rt.Rank() == 0 {
				fmt.Println(v)
			}
		}(world.Endpoint(r))
	}
	wg.Wait()
	// Output: [12 24 36]
}
