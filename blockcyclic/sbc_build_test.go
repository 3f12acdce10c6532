package blockcyclic

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// BenchmarkPotrfBuildSBC is BenchmarkPotrfBuild on the basic SBC
// distribution (P = r(r-1)/2 = 1, 3, 15, 66, 276, 1035): what rank 0 spends
// building its pruned part of a 256 x 256-tile Cholesky graph. tasks/op is
// the tasks it submitted; the update loop visits only the block rows of its
// two residues (sbcUpdates), so the build time falls with P too.
//
//	go test ./blockcyclic -run '^$' -bench PotrfBuildSBC -benchtime 1x
func BenchmarkPotrfBuildSBC(b *testing.B) {
	const nt = 256
	for _, r := range []int{2, 3, 6, 12, 24, 46} {
		d, err := NewSBC(r, false)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("P=%d", d.Size()), func(b *testing.B) {
			var tasks float64
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w, err := inproc.NewWorld(inproc.Config{Ranks: d.Size()})
				if err != nil {
					b.Fatal(err)
				}
				rt, err := dagmpi.New(w.Endpoint(0), dagmpi.WithPruned(), dagmpi.WithMaxPending(1<<30), dagmpi.WithWorkers(1))
				if err != nil {
					b.Fatal(err)
				}
				a, err := NewMatrix(rt, nt, nt, 1, 1, d)
				if err != nil {
					b.Fatal(err)
				}
				var failed atomic.Int64
				b.StartTimer()
				if err := submitPotrf(blas.Lower, a, &failed); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				tasks += float64(ownTasks(a, nt))
				runtime.KeepAlive(rt)
			}
			b.ReportMetric(tasks/float64(b.N), "tasks/op")
		})
	}
}
