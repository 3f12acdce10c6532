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
