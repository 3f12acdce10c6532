package stfcoll_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/stfcoll"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// job runs body on p in-process ranks.
func job(t *testing.T, p int, body func(rt *dagmpi.Runtime) error) {
	t.Helper()
	w, err := inproc.NewWorld(inproc.Config{Ranks: p})
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, p)
	var wg sync.WaitGroup
	for r := range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt, err := dagmpi.New(w.Endpoint(r), dagmpi.WithWorkers(2))
			if err != nil {
				errs[r] = err
				return
			}
			errs[r] = body(rt)
			if err := rt.Close(); errs[r] == nil {
				errs[r] = err
			}
		}()
	}
	wg.Wait()
	for r, err := range errs {
		assert.NoError(t, err, "rank %d", r)
	}
}

// TestReduceSum sums rank-distinct parts over 1-6 ranks from every root,
// twice in a row (the second reduction reuses the handles), and checks the
// sum as every rank reads it.
func TestReduceSum(t *testing.T) {
	const n = 5
	for p := 1; p <= 6; p++ {
		for root := range p {
			t.Run(fmt.Sprintf("p%d-root%d", p, root), func(t *testing.T) {
				job(t, p, func(rt *dagmpi.Runtime) error {
					parts := make([]*dagmpi.Data[float64], p)
					for r := range p {
						d, err := dagmpi.NewData[float64](rt, n, r, nil)
						if err != nil {
							return err
						}
						parts[r] = d
					}
					for round := range 2 {
						// Part r holds (round+1) * 2^r * (i+1).
						for r := range p {
							if err := rt.Submit(func(tk *dagmpi.Task) error {
								for i := range parts[r].Buf(tk) {
									parts[r].Buf(tk)[i] = float64((round+1)<<r) * float64(i+1)
								}
								return nil
							}, parts[r].Write()); err != nil {
								return err
							}
						}
						sum, err := stfcoll.ReduceSum(rt, parts, root, 0, "add")
						if err != nil {
							return err
						}
						got := make([][]float64, p)
						for r := range p {
							dst, err := dagmpi.NewData[float64](rt, n, r, nil)
							if err != nil {
								return err
							}
							if err := rt.Submit(func(tk *dagmpi.Task) error {
								got[r] = append([]float64(nil), sum.Buf(tk)...)
								return nil
							}, dst.Write(), sum.Read()); err != nil {
								return err
							}
						}
						if err := rt.Wait(); err != nil {
							return err
						}
						want := float64((round + 1) * (1<<p - 1))
						for i, v := range got[rt.Rank()] {
							if v != want*float64(i+1) {
								return fmt.Errorf("round %d: rank %d element %d = %v, want %v", round, rt.Rank(), i, v, want*float64(i+1))
							}
						}
					}
					return nil
				})
			})
		}
	}
}

// TestErrors checks that malformed calls name what is wrong.
func TestErrors(t *testing.T) {
	job(t, 2, func(rt *dagmpi.Runtime) error {
		a, _ := dagmpi.NewData[float64](rt, 3, 0, nil)
		b, _ := dagmpi.NewData[float64](rt, 4, 1, nil)
		_, err := stfcoll.ReduceSum(rt, []*dagmpi.Data[float64]{a}, 0, 0, "x")
		assert.ErrorContains(t, err, "1 parts for 2 ranks")
		_, err = stfcoll.ReduceSum(rt, []*dagmpi.Data[float64]{a, b}, 0, 0, "x")
		assert.ErrorContains(t, err, "part 1 has 4 elements, part 0 has 3")
		_, err = stfcoll.ReduceSum(rt, []*dagmpi.Data[float64]{a, a}, 2, 0, "x")
		assert.ErrorContains(t, err, "root 2 outside [0, 2)")
		_, err = stfcoll.NewExchange(rt, [][]int{{0, 1}, {-1, 0}}, 2)
		assert.ErrorContains(t, err, "negative count -1 from rank 1 to rank 0")
		x, err := stfcoll.NewExchange(rt, [][]int{{0, 2}, {3, 0}}, 2)
		if assert.NoError(t, err) {
			assert.Nil(t, x.Chunk[0][0])
			assert.Equal(t, 4, x.Chunk[0][1].Len())
			assert.Equal(t, 6, x.Chunk[1][0].Len())
			assert.Len(t, x.SendArgs(0), 1)
			assert.Len(t, x.RecvArgs(1), 1)
		}
		return nil
	})
}
