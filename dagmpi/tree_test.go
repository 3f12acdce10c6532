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

// treeReads writes a small and a large Data on rank 0 and reads each on
// ranks 3, 2, 1 (in that order), versions times, checking the values; it
// returns the sends of each rank.
func treeReads(t *testing.T, opts []dagmpi.Option, wrap func(dagmpi.Transport) dagmpi.Transport, versions int) ([]dagmpi.Stats, []string) {
	t.Helper()
	const p = 4
	stats := make([]dagmpi.Stats, p)
	trees := make([]string, p)
	errs := spmdWith(t, inproc.Config{Ranks: p, Seed: 4}, func(int) []dagmpi.Option { return opts }, wrap,
		func(rt *dagmpi.Runtime) error {
			min, on := rt.BroadcastTree()
			trees[rt.Rank()] = fmt.Sprint(min, on)
			small, err := dagmpi.NewData[float64](rt, 10, 0, nil)
			if err != nil {
				return err
			}
			large, err := dagmpi.NewData[float64](rt, 1000, 0, nil)
			if err != nil {
				return err
			}
			for v := 1; v <= versions; v++ {
				for _, d := range []*dagmpi.Data[float64]{small, large} {
					if err := rt.Submit(func(tk *dagmpi.Task) error {
						for i := range d.Buf(tk) {
							d.Buf(tk)[i] = float64(v + i)
						}
						return nil
					}, d.Write(), dagmpi.OnRank(0)); err != nil {
						return err
					}
					for r := p - 1; r >= 1; r-- {
						if err := rt.Submit(func(tk *dagmpi.Task) error {
							for i, e := range d.Buf(tk) {
								if e != float64(v+i) {
									return fmt.Errorf("rank %d, version %d, Data of %d: element %d is %v, want %d", r, v, d.Len(), i, e, v+i)
								}
							}
							return nil
						}, d.Read(), dagmpi.OnRank(r)); err != nil {
							return err
						}
					}
				}
			}
			if err := rt.Wait(); err != nil {
				return err
			}
			stats[rt.Rank()] = rt.Stats()
			return nil
		})
	noErrors(t, errs)
	return stats, trees
}

// TestBroadcastTreeFrom: below the size given, versions move from their
// location to each reader (3 sends per version from rank 0); from it, along
// the tree (2 sends from rank 0, 1 forwarded by rank 3, the first reader).
func TestBroadcastTreeFrom(t *testing.T) {
	checkNoLeak(t)
	const versions = 3
	stats, _ := treeReads(t, []dagmpi.Option{dagmpi.WithBroadcastTreeFrom(1000)}, nil, versions)
	if got, want := stats[0].Sends, int64(versions*(3+2)); got != want {
		t.Errorf("rank 0 sent %d times, want %d (3 per small version, 2 per large)", got, want)
	}
	if got, want := stats[3].Sends, int64(versions); got != want {
		t.Errorf("rank 3 (first reader) sent %d times, want %d (one forward per large version)", got, want)
	}
	if _, err := treeReads0(dagmpi.WithBroadcastTreeFrom(-1)); err == nil {
		t.Error("WithBroadcastTreeFrom(-1): no error")
	}
}

func treeReads0(opt dagmpi.Option) (*dagmpi.Runtime, error) {
	w, err := inproc.NewWorld(inproc.Config{Ranks: 1})
	if err != nil {
		return nil, err
	}
	rt, err := dagmpi.New(w.Endpoint(0), opt)
	if err == nil {
		rt.Close()
	}
	return rt, err
}

// advising is an in-process endpoint that advises trees (TreeAdvisor).
type advising struct {
	*inproc.Endpoint
	min int
	ok  bool
}

func (a advising) BroadcastTreeFrom() (int, bool) { return a.min, a.ok }

// TestTreeAdvice: the Runtime takes a TreeAdvisor's advice unless an option
// chose or submission is pruned.
func TestTreeAdvice(t *testing.T) {
	checkNoLeak(t)
	advise := func(min int, ok bool) func(dagmpi.Transport) dagmpi.Transport {
		return func(tr dagmpi.Transport) dagmpi.Transport { return advising{tr.(*inproc.Endpoint), min, ok} }
	}
	for _, c := range []struct {
		name     string
		opts     []dagmpi.Option
		min      int
		ok       bool
		want     string
		rootSent int64 // per version pair
	}{
		{"advised", nil, 1000, true, "1000 true", 3 + 2},
		{"advised-none", nil, 1000, false, "0 false", 3 + 3},
		{"forced-off", []dagmpi.Option{dagmpi.WithoutBroadcastTree()}, 1000, true, "0 false", 3 + 3},
		{"forced-on", []dagmpi.Option{dagmpi.WithBroadcastTree()}, 1000, false, "0 true", 2 + 2},
		{"pruned", []dagmpi.Option{dagmpi.WithPruned()}, 1000, true, "0 false", -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			stats, trees := treeReads(t, c.opts, advise(c.min, c.ok), 2)
			for r, got := range trees {
				if got != c.want {
					t.Errorf("rank %d: BroadcastTree() = %s, want %s", r, got, c.want)
				}
			}
			if c.rootSent >= 0 && stats[0].Sends != 2*c.rootSent {
				t.Errorf("rank 0 sent %d times, want %d", stats[0].Sends, 2*c.rootSent)
			}
		})
	}
}
