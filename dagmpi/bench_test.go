package dagmpi_test

import (
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
// submits the same tasks, and both wait at the end.
func BenchmarkChainSubmit(b *testing.B) {
	w, _ := inproc.NewWorld(inproc.Config{Ranks: 2})
	rts := make([]*dagmpi.Runtime, 2)
	xs := make([]*dagmpi.Data[float64], 2)
	for r := range rts {
		rt, err := dagmpi.New(w.Endpoint(r), dagmpi.WithWorkers(1))
		if err != nil {
			b.Fatal(err)
		}
		rts[r] = rt
		xs[r], _ = dagmpi.NewData[float64](rt, 1, 0, nil)
	}
	other := make(chan error, 1)
	n := b.N
	go func() {
		for i := 0; i < n; i++ {
			if err := rts[1].Submit(nop, xs[1].ReadWrite(), dagmpi.OnRank(i%2)); err != nil {
				other <- err
				return
			}
		}
		other <- rts[1].Wait()
	}()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < n; i++ {
		if err := rts[0].Submit(nop, xs[0].ReadWrite(), dagmpi.OnRank(i%2)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := rts[0].Wait(); err != nil {
		b.Fatal(err)
	}
	if err := <-other; err != nil {
		b.Fatal(err)
	}
	go func() { other <- rts[1].Close() }()
	if err := rts[0].Close(); err != nil {
		b.Fatal(err)
	}
	if err := <-other; err != nil {
		b.Fatal(err)
	}
}
