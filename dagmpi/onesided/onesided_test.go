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

func TestConformance(t *testing.T) {
	for _, cfg := range []onesided.Config{onesided.DefaultConfig, tiny} {
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
	for _, cfg := range []onesided.Config{onesided.DefaultConfig, tiny} {
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
