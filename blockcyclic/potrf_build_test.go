package blockcyclic

import (
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// BenchmarkPotrfBuild measures what one rank spends building its part of
// the task graph of a 256 x 256-tile Cholesky with pruned submission, as
// one rank (rank 0, which owns the first panel) among P = 1 ... 1024 on a
// sqrt(P) x sqrt(P) grid: only that rank submits, nothing else runs, and
// the tiles hold one element so that only the graph costs. ns/op is the
// build time (NewMatrix and the submission), B/op the bytes allocated
// during the build, tasks/op the tasks this rank submitted, tiles/op the
// tile handles it made, heap-B/op the heap still in use after the build
// (tile handles and the graph's pending tasks, after a GC).
//
//	go test ./blockcyclic -run '^$' -bench PotrfBuild -benchtime 1x
func BenchmarkPotrfBuild(b *testing.B) {
	const nt = 256
	for _, p := range []int{1, 4, 16, 64, 256, 1024} {
		b.Run(fmt.Sprintf("P=%d", p), func(b *testing.B) {
			q := int(math.Sqrt(float64(p)))
			var tasks, heap, tiles float64
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w, err := inproc.NewWorld(inproc.Config{Ranks: p})
				if err != nil {
					b.Fatal(err)
				}
				rt, err := dagmpi.New(w.Endpoint(0), dagmpi.WithPruned(), dagmpi.WithMaxPending(1<<30), dagmpi.WithWorkers(1))
				if err != nil {
					b.Fatal(err)
				}
				d, err := NewCyclic2D(q, q, RowMajor, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				var failed atomic.Int64
				var m0, m1 runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&m0)
				b.StartTimer()
				a, err := NewMatrix(rt, nt, nt, 1, 1, d)
				if err != nil {
					b.Fatal(err)
				}
				if err := submitPotrf(blas.Lower, a, &failed); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				tiles += float64(a.TilesMade())
				runtime.GC()
				runtime.ReadMemStats(&m1)
				heap += float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
				tasks += float64(ownTasks(a, nt))
				runtime.KeepAlive(rt)
				// The Runtime is abandoned: its other ranks never run, so
				// it cannot be closed.
			}
			b.ReportMetric(tasks/float64(b.N), "tasks/op")
			b.ReportMetric(tiles/float64(b.N), "tiles/op")
			b.ReportMetric(heap/float64(b.N), "heap-B/op")
		})
	}
}

// ownTasks counts the Cholesky tasks rank 0 submits with pruning: those it
// runs or that read a tile it owns.
func ownTasks(a *Matrix, nt int) int {
	me, n := 0, 0
	in := func(w [2]int, rs ...[2]int) {
		if a.Owner(w[0], w[1]) == me {
			n++
			return
		}
		for _, r := range rs {
			if a.Owner(r[0], r[1]) == me {
				n++
				return
			}
		}
	}
	for k := 0; k < nt; k++ {
		in([2]int{k, k})
		for i := k + 1; i < nt; i++ {
			in([2]int{i, k}, [2]int{k, k})
		}
		for j := k + 1; j < nt; j++ {
			in([2]int{j, j}, [2]int{j, k})
			for i := j + 1; i < nt; i++ {
				in([2]int{i, j}, [2]int{i, k}, [2]int{j, k})
			}
		}
	}
	return n
}
