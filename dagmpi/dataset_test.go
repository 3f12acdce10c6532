package dagmpi_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// TestDataSet makes handles on first use on a pruned Runtime: each rank
// makes only the handles of the tasks it submits, identities match NewData's,
// version 0 is filled on the home rank only, and data moves between ranks.
func TestDataSet(t *testing.T) {
	const count = 8
	errs := spmd(t, inproc.Config{Ranks: 2, Seed: 9}, []dagmpi.Option{dagmpi.WithPruned(), dagmpi.WithWorkers(2)}, func(rt *dagmpi.Runtime) error {
		me := rt.Rank()
		fills := 0
		set, err := dagmpi.NewDataSet(rt, count, func(k int) (int, int) { return k + 1, k % 2 }, func(k int, buf []float64) {
			fills++
			if k%2 != me {
				t.Errorf("rank %d: fill of handle %d, whose home is %d", me, k, k%2)
			}
			for i := range buf {
				buf[i] = float64(10*k + i)
			}
		})
		if err != nil {
			return err
		}
		after, err := dagmpi.NewData[float64](rt, 1, 0, nil)
		if err != nil {
			return err
		}
		if after.ID() != set.At(0).ID()+count {
			t.Errorf("rank %d: the next NewData has id %d, want %d", me, after.ID(), set.At(0).ID()+count)
		}
		// Handle 2 (home 0) is read on rank 1; handle 5 (home 1) is
		// updated on rank 1 only. Each rank submits only what it takes
		// part in.
		got := make([]float64, 3)
		d2 := set.At(2)
		if err := rt.Submit(func(tk *dagmpi.Task) error {
			copy(got, d2.Buf(tk))
			return nil
		}, d2.Read(), dagmpi.OnRank(1)); err != nil {
			return err
		}
		if me == 1 {
			d5 := set.At(5)
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				d5.Buf(tk)[0] = -1
				return nil
			}, d5.ReadWrite(), dagmpi.OnRank(1)); err != nil {
				return err
			}
		}
		if err := rt.Wait(); err != nil {
			return err
		}
		want := map[int]int{0: 2, 1: 3} // handle 0 (the After check) and 2; rank 1 also 5
		if set.Made() != want[me] {
			t.Errorf("rank %d: %d handles made, want %d", me, set.Made(), want[me])
		}
		if me == 1 && (got[0] != 20 || got[2] != 22) {
			t.Errorf("rank 1 read %v from handle 2, want [20 21 22]", got)
		}
		if me == 1 && fills != 1 || me == 0 && fills != 2 {
			t.Errorf("rank %d: %d fills", me, fills)
		}
		// Concurrent first use makes one handle.
		var wg sync.WaitGroup
		ds := make([]*dagmpi.Data[float64], 8)
		for g := range ds {
			wg.Add(1)
			go func() { defer wg.Done(); ds[g] = set.At(7) }()
		}
		wg.Wait()
		for _, d := range ds {
			if d != ds[0] {
				t.Errorf("rank %d: concurrent At(7) made two handles", me)
			}
		}
		return nil
	})
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

func TestDataSetErrors(t *testing.T) {
	w, err := inproc.NewWorld(inproc.Config{Ranks: 1})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := dagmpi.New(w.Endpoint(0), dagmpi.WithPruned(), dagmpi.WithOwnedTransport())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dagmpi.NewDataSet[float64](rt, -1, func(int) (int, int) { return 1, 0 }, nil); err == nil || !strings.Contains(err.Error(), "negative count -1") {
		t.Errorf("negative count: %v", err)
	}
	if _, err := dagmpi.NewDataSet[*int](rt, 1, func(int) (int, int) { return 1, 0 }, nil); err == nil {
		t.Error("a pointer element type was accepted")
	}
	set, err := dagmpi.NewDataSet[float64](rt, 2, func(k int) (int, int) { return 1, 5 * k }, nil)
	if err != nil {
		t.Fatal(err)
	}
	set.At(0)
	for _, c := range []struct {
		k    int
		want string
	}{{2, "DataSet.At(2) outside a set of 2"}, {1, "home rank 5 (ranks 0..0)"}} {
		func() {
			defer func() {
				if p := recover(); p == nil || !strings.Contains(p.(string), c.want) {
					t.Errorf("At(%d): panic %v, want %q", c.k, p, c.want)
				}
			}()
			set.At(c.k)
		}()
	}
	if err := rt.Close(); err != nil {
		t.Error(err)
	}
}
