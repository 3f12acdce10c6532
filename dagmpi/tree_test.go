package dagmpi_test

import (
	"fmt"
	"math/bits"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// TestBroadcastTree reads one version on every rank, a few times over, and
// checks the values and that the version's location sent it only
// ceil(log2(P)) times per version instead of P-1 (WithBroadcastTree), while
// the other ranks forwarded the rest.
func TestBroadcastTree(t *testing.T) {
	checkNoLeak(t)
	for _, p := range []int{2, 3, 5, 8} {
		t.Run(fmt.Sprintf("ranks=%d", p), func(t *testing.T) {
			const versions = 3
			stats := make([]dagmpi.Stats, p)
			errs := spmd(t, inproc.Config{Ranks: p, Seed: int64(p)}, []dagmpi.Option{dagmpi.WithBroadcastTree(), dagmpi.WithWorkers(2)},
				func(rt *dagmpi.Runtime) error {
					x, err := dagmpi.NewData[float64](rt, 1000, 0, nil)
					if err != nil {
						return err
					}
					sums := make([]float64, p)
					for v := 1; v <= versions; v++ {
						err := rt.Submit(func(tk *dagmpi.Task) error {
							for i := range x.Buf(tk) {
								x.Buf(tk)[i] = float64(v * i)
							}
							return nil
						}, x.Write(), dagmpi.OnRank(0))
						if err != nil {
							return err
						}
						// Readers in an order that is not the rank order.
						for k := p - 1; k >= 1; k-- {
							r := k
							err := rt.Submit(func(tk *dagmpi.Task) error {
								s := 0.0
								for _, e := range x.Buf(tk) {
									s += e
								}
								sums[r] = s
								return nil
							}, x.Read(), dagmpi.OnRank(r))
							if err != nil {
								return err
							}
						}
						if err := rt.Wait(); err != nil {
							return err
						}
						want := float64(v) * 999 * 1000 / 2
						if me := rt.Rank(); me != 0 && sums[me] != want {
							return fmt.Errorf("version %d: rank %d read a sum of %v, want %v", v, me, sums[me], want)
						}
					}
					stats[rt.Rank()] = rt.Stats()
					return nil
				})
			noErrors(t, errs)
			var total int64
			for _, s := range stats {
				total += s.Sends
			}
			if want := int64(versions * (p - 1)); total != want {
				t.Errorf("%d sends in all, want one per reader and version: %d", total, want)
			}
			if want := int64(versions * bits.Len(uint(p-1))); stats[0].Sends != want {
				t.Errorf("rank 0 (the location) sent %d times, want %d (log2 tree)", stats[0].Sends, want)
			}
		})
	}
}

func TestBroadcastTreeNeedsFullSubmission(t *testing.T) {
	w, err := inproc.NewWorld(inproc.Config{Ranks: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dagmpi.New(w.Endpoint(0), dagmpi.WithBroadcastTree(), dagmpi.WithPruned())
	if err == nil {
		t.Fatal("WithBroadcastTree with WithPruned: no error")
	}
}
