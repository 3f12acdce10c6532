package dagmpi_test

import (
	"fmt"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// A chain that bounces one value between ranks: each task adds its index.
func TestChainAcrossRanks(t *testing.T) {
	checkNoLeak(t)
	for _, ranks := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(ranks), func(t *testing.T) {
			const n = 50
			errs := spmd(t, inproc.Config{Ranks: ranks, Seed: 1}, nil, func(rt *dagmpi.Runtime) error {
				var init []float64
				if rt.Rank() == 0 {
					init = []float64{1}
				}
				x, err := dagmpi.NewData(rt, 1, 0, init)
				if err != nil {
					return err
				}
				for i := 0; i < n; i++ {
					i := i
					err := rt.Submit(func(t *dagmpi.Task) error {
						b := x.Buf(t)
						b[0] = b[0]*2 + float64(i)
						return nil
					}, x.ReadWrite(), dagmpi.OnRank(i%ranks), dagmpi.Name("step"))
					if err != nil {
						return err
					}
				}
				got, err := x.FetchAll()
				if err != nil {
					return err
				}
				want := 1.0
				for i := 0; i < n; i++ {
					want = want*2 + float64(i)
				}
				if got[0] != want {
					return fmt.Errorf("rank %d: got %v, want %v", rt.Rank(), got[0], want)
				}
				return rt.Wait()
			})
			noErrors(t, errs)
		})
	}
}
