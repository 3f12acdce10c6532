//go:build unix

package dagmpi_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIdleDoesNotBurnCPU: while rank 0 computes for 400ms and rank 1
// waits for its result (a receive pending the whole time), the process
// uses little CPU: the progress goroutines and workers sleep.
func TestIdleDoesNotBurnCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	checkNoLeak(t)
	const busy = 400 * time.Millisecond
	var used time.Duration
	errs := spmd(t, inproc.Config{Ranks: 2}, []dagmpi.Option{dagmpi.WithWorkers(2)}, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 1, 0, 0)
		if err != nil {
			return err
		}
		if err := rt.Wait(); err != nil {
			return err
		}
		if err := rt.Submit(func(*dagmpi.Task) error {
			c0 := cpuTime(t)
			time.Sleep(busy) // a task that waits, not computes
			used = cpuTime(t) - c0
			return nil
		}, a.ReadWrite(), dagmpi.Name("sleeper")); err != nil {
			return err
		}
		if err := rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.OnRank(1)); err != nil {
			return err
		}
		return rt.Wait()
	})
	noErrors(t, errs)
	t.Logf("process CPU time during %v of waiting: %v", busy, used)
	if used > busy/5 {
		t.Errorf("the runtime used %v of CPU while waiting %v: it polls instead of sleeping", used, busy)
	}
}
