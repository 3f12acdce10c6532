package dagmpi_test

import (
	"errors"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

func nop(*dagmpi.Task) error { return nil }

// BenchmarkSkip measures the metadata path: rank 0 of 2 submits tasks that
// run on rank 1 and touch nothing located on rank 0.
func BenchmarkSkip(b *testing.B) {
	w, _ := inproc.NewWorld(inproc.Config{Ranks: 2})
	rt, err := dagmpi.New(w.Endpoint(0), dagmpi.WithWorkers(1), dagmpi.WithCheck(false))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	x, _ := dagmpi.NewData[float64](rt, 8, 1, nil)
	y, _ := dagmpi.NewData[float64](rt, 8, 1, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rt.Submit(nop, x.Read(), y.ReadWrite(), dagmpi.Priority(1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmpty measures independent empty tasks on one rank.
func BenchmarkEmpty(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(string(rune('0'+workers)), func(b *testing.B) {
			w, _ := inproc.NewWorld(inproc.Config{Ranks: 1})
			rt, err := dagmpi.New(w.Endpoint(0), dagmpi.WithWorkers(workers))
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := rt.Submit(nop); err != nil {
					b.Fatal(err)
				}
			}
			if err := rt.Wait(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkChainSubmit measures what submitting one task of a chain
// bouncing between 2 ranks costs rank 0 (half of them run here and send,
// half run on rank 1 and need a receive), with its allocations; rank 1
// submits the same tasks in a goroutine, and both wait at the end.
func BenchmarkChainSubmit(b *testing.B) {
	w, err := inproc.NewWorld(inproc.Config{Ranks: 2})
	if err != nil {
		b.Fatal(err)
	}
	rts := make([]*dagmpi.Runtime, 2)
	xs := make([]*dagmpi.Data[float64], 2)
	for r := range rts {
		if rts[r], err = dagmpi.New(w.Endpoint(r), dagmpi.WithWorkers(1)); err != nil {
			b.Fatal(err)
		}
		if xs[r], err = dagmpi.NewData[float64](rts[r], 1, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
	n := b.N
	other := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < n && err == nil; i++ {
			err = rts[1].Submit(nop, xs[1].ReadWrite(), dagmpi.OnRank(i%2))
		}
		if err == nil {
			err = rts[1].Wait()
		}
		other <- errors.Join(err, rts[1].Close())
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < n && err == nil; i++ {
		err = rts[0].Submit(nop, xs[0].ReadWrite(), dagmpi.OnRank(i%2))
	}
	b.StopTimer()
	if err == nil {
		err = rts[0].Wait()
	}
	// Close runs on both ranks whatever happened.
	if err = errors.Join(err, rts[0].Close(), <-other); err != nil {
		b.Fatal(err)
	}
}
