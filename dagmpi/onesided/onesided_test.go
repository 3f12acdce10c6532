package onesided_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/internal/randgraph"
	"github.com/spmd-go/spmd/dagmpi/onesided"
	"github.com/spmd-go/spmd/dagmpi/transporttest"
	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

func TestMain(m *testing.M) { mpitest.Main(m) }

// Small slots and few of them, so that messages are cut into many chunks and
// senders wait for credits: the protocol's hard cases run on every test.
var tiny = onesided.Config{SlotBytes: 1024, Slots: 2}

// small lends one slot per sender (Slots-2), of messages up to 1 KiB.
var small = onesided.Config{SlotBytes: 1024, Slots: 3}

func TestConformance(t *testing.T) {
	for _, cfg := range []onesided.Config{onesided.DefaultConfig, tiny, small} {
		t.Run(fmt.Sprintf("slot=%d,slots=%d", cfg.SlotBytes, cfg.Slots), func(t *testing.T) {
			transporttest.Run(t, func(t *testing.T) dagmpi.Transport {
				tr, err := onesided.NewConfig(mpi.World(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { tr.Close() })
				return tr
			})
		})
	}
}

func TestRandomGraphs(t *testing.T) {
	for _, cfg := range []onesided.Config{onesided.DefaultConfig, tiny, small} {
		for _, prune := range []bool{false, true} {
			for seed := int64(1); seed <= 2; seed++ {
				t.Run(fmt.Sprintf("slot=%d/prune=%v/seed=%d", cfg.SlotBytes, prune, seed), func(t *testing.T) {
					opts := []dagmpi.Option{dagmpi.WithWorkers(2), dagmpi.WithWatchdog(60 * time.Second)}
					if prune {
						opts = append(opts, dagmpi.WithPruned())
					}
					rt, err := onesided.NewRuntime(mpi.World(), cfg, opts...)
					if err != nil {
						t.Fatal(err)
					}
					w := mpi.World()
					s := randgraph.New(seed, w.Size(), 8, 150)
					err = s.Check(rt, prune)
					if cerr := rt.Close(); err == nil {
						err = cerr
					}
					if err != nil {
						t.Error(err)
					}
				})
			}
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []onesided.Config{{SlotBytes: 0, Slots: 1}, {SlotBytes: 64, Slots: 0}, {SlotBytes: 12, Slots: 1}} {
		if _, err := onesided.NewConfig(mpi.World(), cfg); err == nil {
			t.Errorf("NewConfig(%+v): no error", cfg)
		}
	}
}

// TestRuntimeLoans: a Runtime over the Transport reads received versions in
// the window slots they arrived in (Stats.RecvsLent), gives each slot back
// once no task uses the version (an idle version that is still the
// latest moves into a buffer of the Runtime's); WithoutLoans copies instead.
func TestRuntimeLoans(t *testing.T) {
	w := mpi.World()
	if w.Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	for _, lend := range []bool{true, false} {
		t.Run(fmt.Sprintf("lend=%v", lend), func(t *testing.T) {
			tr, err := onesided.New(w)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			opts := []dagmpi.Option{dagmpi.WithWorkers(1), dagmpi.WithWatchdog(60 * time.Second)}
			if !lend {
				opts = append(opts, dagmpi.WithoutLoans())
			}
			rt, err := dagmpi.New(tr, opts...)
			if err != nil {
				t.Fatal(err)
			}
			me := rt.Rank()
			const n = 512 // 4 KiB: fits a slot
			var init []float64
			if me == 0 {
				init = make([]float64, n)
				for i := range init {
					init[i] = float64(i) + 0.5
				}
			}
			d, err := dagmpi.NewData(rt, n, 0, init)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := dagmpi.NewData[float64](rt, 1, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			read := func(mode dagmpi.Arg, add bool) error {
				return rt.Submit(func(tk *dagmpi.Task) error {
					s := 0.0
					for _, v := range d.Buf(tk) {
						s += v
					}
					if add {
						s += sum.Buf(tk)[0]
					}
					sum.Buf(tk)[0] = s
					return nil
				}, d.Read(), mode)
			}
			// Rank 1 reads d (received) into sum, twice; then rank 0
			// doubles d and rank 1 adds it in: three versions of d read on
			// rank 1 from two receives, and 8 more small ones to pass the
			// Slots-2 loans a sender may hold.
			if err := read(sum.Write(), false); err != nil {
				t.Fatal(err)
			}
			for k := 0; k < 9; k++ {
				if err := rt.Submit(func(tk *dagmpi.Task) error {
					for i, v := range d.Buf(tk) {
						d.Buf(tk)[i] = 2 * v
					}
					return nil
				}, d.ReadWrite()); err != nil {
					t.Fatal(err)
				}
				if err := read(sum.ReadWrite(), true); err != nil {
					t.Fatal(err)
				}
			}
			got, err := sum.Fetch(1) // sum lives on rank 1: nothing moves
			if err != nil {
				t.Fatal(err)
			}
			// sum_i (i+0.5) = n^2/2, times 1 + 2 + ... + 2^9 = 1023.
			if wantSum := 1023 * float64(n) * float64(n) / 2; me == 1 && got[0] != wantSum {
				t.Errorf("rank %d: sum %v, want %v", me, got[0], wantSum)
			}
			st := rt.Stats()
			switch {
			case me != 1:
			case lend && st.RecvsLent == 0:
				// A message that arrives before its receive is posted, or
				// while Slots-2 are lent, is copied: not every one is lent.
				t.Errorf("rank 1: none of %d receives lent", st.Recvs)
			case !lend && st.RecvsLent != 0:
				t.Errorf("rank 1: %d receives lent under WithoutLoans", st.RecvsLent)
			}
			if me == 1 && st.Recvs != 10 {
				t.Errorf("rank 1: %d receives, want 10", st.Recvs)
			}
			if held := tr.Loans(); held != 0 {
				t.Errorf("rank %d: %d slots lent after Wait, want 0 (idle versions move out of their slots)", me, held)
			}
			if err := rt.Close(); err != nil {
				t.Fatal(err)
			}
			if held := tr.Loans(); held != 0 {
				t.Errorf("rank %d: %d slots still lent after Runtime.Close", me, held)
			}
		})
	}
}
