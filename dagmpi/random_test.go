package dagmpi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
	"github.com/spmd-go/spmd/dagmpi/internal/randgraph"
)

type randomCase struct {
	ranks, workers, ndata, ntasks int
	tagBound                      int
	delay                         time.Duration
	maxBytes                      int64
	maxPending                    int
	prune                         bool
	inline                        time.Duration // WithInline if nonzero
	tree                          bool          // WithBroadcastTree
	treeFrom                      int           // with tree: WithBroadcastTreeFrom(treeFrom) if nonzero
	lend                          bool          // the endpoints lend received messages (dagmpi.Lender)
}

func (c randomCase) String() string {
	s := fmt.Sprintf("r%d_w%d_d%d_t%d_tag%d_delay%v_bytes%d_pend%d_prune%v",
		c.ranks, c.workers, c.ndata, c.ntasks, c.tagBound, c.delay, c.maxBytes, c.maxPending, c.prune)
	if c.inline != 0 {
		s += fmt.Sprintf("_inline%v", c.inline)
	}
	if c.tree {
		s += "_tree"
		if c.treeFrom != 0 {
			s += fmt.Sprintf("%d", c.treeFrom)
		}
	}
	if c.lend {
		s += "_lend"
	}
	return s
}

func runRandom(t *testing.T, c randomCase, seed int64) {
	s := randgraph.New(seed, c.ranks, c.ndata, c.ntasks)
	want := s.Sequential()
	opts := []dagmpi.Option{dagmpi.WithWorkers(c.workers), dagmpi.WithWatchdog(20 * time.Second)}
	if c.maxBytes > 0 {
		opts = append(opts, dagmpi.WithMaxBytesInFlight(c.maxBytes))
	}
	if c.maxPending > 0 {
		opts = append(opts, dagmpi.WithMaxPending(c.maxPending))
	}
	if c.prune {
		opts = append(opts, dagmpi.WithPruned())
	}
	if c.inline != 0 {
		opts = append(opts, dagmpi.WithInline(c.inline))
	}
	switch {
	case c.tree && c.treeFrom != 0:
		opts = append(opts, dagmpi.WithBroadcastTreeFrom(c.treeFrom))
	case c.tree:
		opts = append(opts, dagmpi.WithBroadcastTree())
	}
	cfg := inproc.Config{Ranks: c.ranks, Seed: seed, TagBound: c.tagBound, MaxDelay: c.delay}
	if c.lend {
		cfg.Lend = 1 << 30
	}
	errs := spmd(t, cfg, opts,
		func(rt *dagmpi.Runtime) error {
			got, err := s.Run(rt, c.prune)
			if err != nil {
				return err
			}
			for d := range got {
				if d%rt.Size() != rt.Rank() {
					if got[d] != nil {
						return fmt.Errorf("Fetch gave data %d to rank %d, not its root", d, rt.Rank())
					}
					continue
				}
				if !randgraph.SameBits(got[d], want[d]) {
					return fmt.Errorf("seed %d: data %d: got %v, want %v", seed, d, got[d], want[d])
				}
			}
			return nil
		})
	noErrors(t, errs)
}

// TestRandomGraphs compares random graphs with their sequential execution,
// bit for bit, over rank counts, worker counts, tag bounds, delays and
// flow-control bounds, with full and pruned submission.
func TestRandomGraphs(t *testing.T) {
	checkNoLeak(t)
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	var cases []randomCase
	for ranks := 1; ranks <= 4; ranks++ {
		for _, prune := range []bool{false, true} {
			cases = append(cases,
				randomCase{ranks: ranks, workers: 2, ndata: 6, ntasks: 120, prune: prune},
				randomCase{ranks: ranks, workers: 3, ndata: 10, ntasks: 300, tagBound: 64, delay: 300 * time.Microsecond, prune: prune},
				randomCase{ranks: ranks, workers: 1, ndata: 4, ntasks: 200, tagBound: 2, maxBytes: 8, maxPending: 3, delay: 100 * time.Microsecond, prune: prune},
				// Every task made ready by an arrival with no worker busy runs
				// on the progress goroutine, whatever its length.
				randomCase{ranks: ranks, workers: 2, ndata: 6, ntasks: 200, tagBound: 16, delay: 100 * time.Microsecond, prune: prune, inline: time.Hour},
				// Received versions read in memory the transport lends, and
				// poisons once given back.
				randomCase{ranks: ranks, workers: 3, ndata: 10, ntasks: 300, tagBound: 64, delay: 300 * time.Microsecond, prune: prune, lend: true},
				randomCase{ranks: ranks, workers: 2, ndata: 6, ntasks: 200, tagBound: 16, delay: 100 * time.Microsecond, prune: prune, inline: time.Hour, lend: true},
			)
		}
		// Versions moving along broadcast trees (full submission only).
		cases = append(cases,
			randomCase{ranks: ranks, workers: 2, ndata: 6, ntasks: 200, delay: 100 * time.Microsecond, tree: true},
			randomCase{ranks: ranks, workers: 2, ndata: 6, ntasks: 200, delay: 100 * time.Microsecond, tree: true, lend: true},
			// Data of 1-9 float64: trees for some, flat for the others.
			randomCase{ranks: ranks, workers: 2, ndata: 8, ntasks: 200, delay: 100 * time.Microsecond, tree: true, treeFrom: 40, lend: true},
			randomCase{ranks: ranks, workers: 1, ndata: 4, ntasks: 200, tagBound: 2, maxBytes: 8, maxPending: 3, delay: 100 * time.Microsecond, tree: true},
		)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			for seed := int64(1); seed <= int64(seeds); seed++ {
				runRandom(t, c, seed)
				if t.Failed() {
					return
				}
			}
		})
	}
}
