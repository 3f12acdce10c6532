package inproc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
	"github.com/spmd-go/spmd/dagmpi/transporttest"
)

func world(cfg inproc.Config) func(t *testing.T, n int) []dagmpi.Transport {
	return func(t *testing.T, n int) []dagmpi.Transport {
		cfg.Ranks = n
		w, err := inproc.NewWorld(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, e := range w.Transports() {
				e.Close()
			}
		})
		return w.Transports()
	}
}

func TestConformance(t *testing.T) {
	transporttest.RunWorld(t, []int{1, 2, 3, 4}, world(inproc.Config{}))
}

func TestConformanceLending(t *testing.T) {
	transporttest.RunWorld(t, []int{1, 2, 3}, world(inproc.Config{Seed: 3, MaxDelay: 100 * time.Microsecond, Lend: 1 << 20}))
}

func TestConformanceDelayed(t *testing.T) {
	transporttest.RunWorld(t, []int{2, 3}, world(inproc.Config{Seed: 7, MaxDelay: time.Millisecond, TagBound: 64}))
}

func TestNewWorldErrors(t *testing.T) {
	for _, c := range []inproc.Config{{Ranks: 0}, {Ranks: 1, TagBound: 1}, {Ranks: 1, MaxDelay: -1}} {
		if _, err := inproc.NewWorld(c); err == nil {
			t.Errorf("NewWorld(%+v) gave no error", c)
		}
	}
}

func TestAbortReachesEveryRank(t *testing.T) {
	w, _ := inproc.NewWorld(inproc.Config{Ranks: 3})
	done := make(chan error)
	go func() {
		// Rank 0 waits in a collective that rank 2 will never join.
		done <- w.Endpoint(0).AllreduceUint64(dagmpi.OpSum, []uint64{1}, []uint64{0})
	}()
	time.Sleep(10 * time.Millisecond)
	w.Endpoint(2).Abort("disk full")
	select {
	case err := <-done:
		if ae, ok := err.(*dagmpi.AbortError); !ok || ae.Rank != 2 || ae.Msg != "disk full" {
			t.Errorf("collective ended with %v, want the abort of rank 2", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("abort did not end the collective")
	}
	if _, err := w.Endpoint(1).Progress(nil); err == nil {
		t.Error("Progress after abort gave no error")
	}
	select {
	case <-w.Endpoint(1).Wake():
	default:
		t.Error("abort did not wake rank 1")
	}
}

// TestAllreduceAliasing: MPI rejects an allreduce whose input and output
// buffers are the same, and so does inproc, so that in-process tests catch
// what would fail under mpirun.
func TestAllreduceAliasing(t *testing.T) {
	w, err := inproc.NewWorld(inproc.Config{Ranks: 1})
	if err != nil {
		t.Fatal(err)
	}
	e := w.Endpoint(0)
	defer e.Close()
	v := []uint64{1, 2}
	if err := e.AllreduceUint64(dagmpi.OpMax, v, v); err == nil || !strings.Contains(err.Error(), "same slice") {
		t.Errorf("aliased AllreduceUint64: %v, want an error naming the aliasing", err)
	}
	out := make([]uint64, 2)
	if err := e.AllreduceUint64(dagmpi.OpMax, v, out); err != nil || out[0] != 1 || out[1] != 2 {
		t.Errorf("AllreduceUint64 after the refused call: %v, %v", out, err)
	}
}
