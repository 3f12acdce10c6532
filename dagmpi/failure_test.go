package dagmpi_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// failJob runs body on 3 ranks and returns the per-rank errors, checking
// that every rank got one.
func failJob(t *testing.T, opts []dagmpi.Option, body func(rt *dagmpi.Runtime) error) []error {
	t.Helper()
	start := time.Now()
	errs := spmd(t, inproc.Config{Ranks: 3, Seed: 5}, opts, body)
	for r, err := range errs {
		if err == nil {
			t.Errorf("rank %d: no error", r)
		} else {
			t.Logf("rank %d: %v", r, err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("job took %v to end", d)
	}
	return errs
}

func TestTaskPanicEndsJob(t *testing.T) {
	checkNoLeak(t)
	errs := failJob(t, nil, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 2, 1, 0)
		if err != nil {
			return err
		}
		if err := rt.Submit(func(t *dagmpi.Task) error {
			panic("boom")
		}, a.ReadWrite(), dagmpi.Name("explode")); err != nil {
			return err
		}
		// Others wait for the panicking task's output.
		for r := 0; r < 3; r++ {
			if err := rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.OnRank(r)); err != nil {
				return err
			}
		}
		return rt.Wait()
	})
	if err := contains(errs[1], "rank 1", `task "explode" (#0) panicked: boom`); err != nil {
		t.Error(err)
	}
	if !errors.Is(errs[1], dagmpi.ErrTaskFailed) {
		t.Errorf("rank 1: %v does not wrap ErrTaskFailed", errs[1])
	}
	for _, r := range []int{0, 2} {
		if err := contains(errs[r], "aborted by rank 1", `"explode"`, "boom"); err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
		if !errors.Is(errs[r], dagmpi.ErrAborted) {
			t.Errorf("rank %d: %v does not wrap ErrAborted", r, errs[r])
		}
	}
}

func TestTaskErrorEndsJob(t *testing.T) {
	checkNoLeak(t)
	sentinel := errors.New("singular pivot")
	errs := failJob(t, nil, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 2, 2, 0)
		if err != nil {
			return err
		}
		if err := rt.Submit(func(t *dagmpi.Task) error {
			return fmt.Errorf("column 3: %w", sentinel)
		}, a.ReadWrite(), dagmpi.Name("factor")); err != nil {
			return err
		}
		return rt.Wait()
	})
	if err := contains(errs[2], "rank 2", `task "factor" (#0) failed: column 3: singular pivot`); err != nil {
		t.Error(err)
	}
	if !errors.Is(errs[2], sentinel) {
		t.Errorf("rank 2: %v does not wrap the task's error", errs[2])
	}
}

// stuckJob runs a job whose one task, on rank 1, blocks until the job has
// failed, and returns the per-rank errors.
func stuckJob(t *testing.T, opts []dagmpi.Option) []error {
	t.Helper()
	release := make(chan struct{})
	defer close(release)
	return failJob(t, opts, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 2, 1, 0)
		if err != nil {
			return err
		}
		if err := rt.Submit(func(t *dagmpi.Task) error {
			<-release
			return nil
		}, a.ReadWrite(), dagmpi.Name("stuck")); err != nil {
			return err
		}
		err = rt.Wait()
		if rt.Rank() == 1 {
			// Let Close return: the stuck body ends once the test has its error.
			go func() {
				time.Sleep(50 * time.Millisecond)
				release <- struct{}{}
			}()
		}
		return err
	})
}

func TestWatchdogNamesStuckTask(t *testing.T) {
	checkNoLeak(t)
	errs := stuckJob(t, []dagmpi.Option{dagmpi.WithWatchdog(200 * time.Millisecond)})
	if err := contains(errs[1], "rank 1", "no progress", `task "stuck" (#0) running on worker`); err != nil {
		t.Error(err)
	}
	if !errors.Is(errs[1], dagmpi.ErrNoProgress) {
		t.Errorf("rank 1: %v does not wrap ErrNoProgress", errs[1])
	}
	for _, r := range []int{0, 2} {
		if err := contains(errs[r], "aborted by rank 1", `"stuck"`); err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

// A graph where ranks disagree on a task's rank: rank 1 waits for a receive
// that rank 0 never sends, and the watchdog names the transfer.
func TestWatchdogNamesPendingTransfer(t *testing.T) {
	checkNoLeak(t)
	errs := failJob(t, []dagmpi.Option{dagmpi.WithWatchdog(200 * time.Millisecond)}, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 2, 0, 0)
		if err != nil {
			return err
		}
		on := 0
		if rt.Rank() == 1 {
			on = 1
		}
		if err := rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.OnRank(on), dagmpi.Name("misplaced")); err != nil {
			return err
		}
		return rt.Wait()
	})
	if err := contains(errs[1], "rank 1", "no progress", "receive of data 0 from rank 0", `"misplaced"`, "posted, not complete"); err != nil {
		t.Error(err)
	}
}

func TestNonSPMDDetected(t *testing.T) {
	checkNoLeak(t)
	t.Run("extra task", func(t *testing.T) {
		errs := failJob(t, nil, func(rt *dagmpi.Runtime) error {
			a, err := newF64(rt, 2, 1, 0)
			if err != nil {
				return err
			}
			n := 3
			if rt.Rank() == 2 {
				n = 4
			}
			for i := 0; i < n; i++ {
				if err := rt.Submit(func(*dagmpi.Task) error { return nil }, a.ReadWrite(), dagmpi.Name(fmt.Sprint("step ", i))); err != nil {
					return err
				}
			}
			return rt.Wait()
		})
		for r, err := range errs {
			if err := contains(err, fmt.Sprintf("rank %d", r), "different task graphs", "submitted"); err != nil {
				t.Errorf("rank %d: %v", r, err)
			}
			if !errors.Is(err, dagmpi.ErrNotSPMD) {
				t.Errorf("rank %d: %v does not wrap ErrNotSPMD", r, err)
			}
		}
		// Rank 2 names its extra task; the others say they have none.
		if err := contains(errs[2], `first difference at task #3: here task "step 3" (#3, runs on rank 1)`); err != nil {
			t.Error(err)
		}
		for _, r := range []int{0, 1} {
			if err := contains(errs[r], "first difference at task #3: this rank submitted no task #3"); err != nil {
				t.Errorf("rank %d: %v", r, err)
			}
		}
	})
	t.Run("different mode", func(t *testing.T) {
		errs := failJob(t, nil, func(rt *dagmpi.Runtime) error {
			a, err := newF64(rt, 2, 1, 0)
			if err != nil {
				return err
			}
			arg := a.ReadWrite()
			if rt.Rank() == 0 {
				arg = a.Read()
			}
			if err := rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.OnRank(0), dagmpi.Name("same")); err != nil {
				return err
			}
			if err := rt.Submit(func(*dagmpi.Task) error { return nil }, arg, dagmpi.OnRank(1)); err != nil {
				return err
			}
			return rt.Wait()
		})
		for r, err := range errs {
			if err := contains(err, "different task graphs", "submission hash",
				"first difference at task #1: here an unnamed task (#1, runs on rank 1)"); err != nil {
				t.Errorf("rank %d: %v", r, err)
			}
		}
	})
	// Long streams: the divergence is named exactly when it lies among the
	// last tasks kept by name, and bracketed between checkpoints otherwise,
	// also after the checkpoint log has been thinned (beyond 256
	// checkpoints of 64 tasks).
	// With wait > 0, a Wait that passes the check after that many tasks
	// starts the record afresh: checkpoints count from there.
	for _, c := range []struct {
		n, at, wait int
		want        string
	}{
		{1000, 900, 0, `first difference at task #900: here task "step 900" (#900, runs on rank 1)`},
		{1000, 100, 0, "first difference between task #64 and #127 (only the last 256 tasks are kept by name"},
		{1000, 600, 500, "first difference between task #564 and #627"},
		{20000, 19990, 0, `first difference at task #19990: here task "step 19990" (#19990, runs on rank 1)`},
		{20000, 10050, 0, "first difference between task #9984 and #10111"},
	} {
		t.Run(fmt.Sprintf("task %d of %d", c.at, c.n), func(t *testing.T) {
			errs := failJob(t, nil, func(rt *dagmpi.Runtime) error {
				a, err := newF64(rt, 1, 1, 0)
				if err != nil {
					return err
				}
				nop := func(*dagmpi.Task) error { return nil }
				for i := 0; i < c.n; i++ {
					if i == c.wait && i > 0 {
						if err := rt.Wait(); err != nil {
							return err
						}
					}
					prio := 0
					if i == c.at && rt.Rank() == 2 {
						prio = 1 // the priority is part of the checked stream
					}
					if err := rt.Submit(nop, a.ReadWrite(), dagmpi.Priority(prio), dagmpi.Name(fmt.Sprint("step ", i))); err != nil {
						return err
					}
				}
				return rt.Wait()
			})
			for r, err := range errs {
				if err := contains(err, fmt.Sprintf("rank %d", r), "submission hash", c.want); err != nil {
					t.Errorf("rank %d: %v", r, err)
				}
			}
		})
	}
	t.Run("size mismatch", func(t *testing.T) {
		errs := failJob(t, nil, func(rt *dagmpi.Runtime) error {
			n := 4
			if rt.Rank() == 1 {
				n = 2
			}
			a, err := newF64(rt, n, 0, 0)
			if err != nil {
				return err
			}
			if err := rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.OnRank(1), dagmpi.Name("reader")); err != nil {
				return err
			}
			return rt.Wait()
		})
		if err := contains(errs[1], "rank 1", "receive of data 0 from rank 0", `"reader"`, "truncated"); err != nil {
			t.Error(err)
		}
	})
}

func TestBadInput(t *testing.T) {
	checkNoLeak(t)
	errs := spmd(t, inproc.Config{Ranks: 2}, nil, func(rt *dagmpi.Runtime) error {
		type ptr struct{ p *int }
		checks := []struct {
			err  error
			want string
		}{
			{second(dagmpi.NewData[float64](rt, -1, 0, nil)), "negative length -1"},
			{second(dagmpi.NewData[float64](rt, 1, 2, nil)), "home rank 2 outside [0, 2)"},
			{second(dagmpi.NewData[float64](rt, 1, 1-rt.Rank(), []float64{1})), "init given on rank"},
			{second(dagmpi.NewData[ptr](rt, 1, 0, nil)), "holds pointers"},
			{second(dagmpi.NewData[string](rt, 1, 0, nil)), "holds pointers"},
		}
		if rt.Rank() == 0 {
			checks = append(checks, struct {
				err  error
				want string
			}{second(dagmpi.NewData(rt, 3, 0, []float64{1})), "init has 1 elements, want 3"})
		}
		a, err := newF64(rt, 1, 0, 0)
		if err != nil {
			return err
		}
		nop := func(*dagmpi.Task) error { return nil }
		checks = append(checks, []struct {
			err  error
			want string
		}{
			{rt.Submit(nop, a.Read(), a.Write()), "Data 0 appears twice"},
			{rt.Submit(nop, a.Read(), dagmpi.OnRank(5)), "OnRank(5) outside [0, 2)"},
			{rt.Submit(nop, dagmpi.Arg{}), "zero Arg"},
			{a.ProducedOn(rt.Rank()), "must submit them"},
			{a.ProducedOn(-1), "rank outside"},
			{second(a.Fetch(9)), "Fetch(9): root outside"},
		}...)
		for i, c := range checks {
			if err := contains(c.err, c.want); err != nil {
				return fmt.Errorf("check %d: %v", i, err)
			}
		}
		return rt.Wait()
	})
	noErrors(t, errs)
	if _, err := dagmpi.New(nil); err == nil {
		t.Error("New(nil) gave no error")
	}
	w, _ := inproc.NewWorld(inproc.Config{Ranks: 1})
	for _, o := range []dagmpi.Option{dagmpi.WithWorkers(0), dagmpi.WithTagBound(1), dagmpi.WithMaxPending(0), dagmpi.WithWatchdog(-1)} {
		if _, err := dagmpi.New(w.Endpoint(0), o); err == nil {
			t.Error("a bad option gave no error")
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestClosedRuntime(t *testing.T) {
	checkNoLeak(t)
	w, _ := inproc.NewWorld(inproc.Config{Ranks: 1})
	rt, err := dagmpi.New(w.Endpoint(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := rt.Submit(func(*dagmpi.Task) error { return nil }); !errors.Is(err, dagmpi.ErrClosed) {
		t.Errorf("Submit after Close: %v", err)
	}
	if err := rt.Wait(); !errors.Is(err, dagmpi.ErrClosed) {
		t.Errorf("Wait after Close: %v", err)
	}
}

// TestWatchdogFromEnv sets the watchdog with SPMD_WATCHDOG instead of an
// option, and checks that a bad value is refused by name.
func TestWatchdogFromEnv(t *testing.T) {
	checkNoLeak(t)
	t.Setenv(dagmpi.EnvWatchdog, "200ms")
	errs := stuckJob(t, nil)
	if !errors.Is(errs[1], dagmpi.ErrNoProgress) {
		t.Errorf("rank 1: %v does not wrap ErrNoProgress", errs[1])
	}

	t.Setenv(dagmpi.EnvWatchdog, "soon")
	w, err := inproc.NewWorld(inproc.Config{Ranks: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = dagmpi.New(w.Transports()[0])
	if err == nil || !strings.Contains(err.Error(), `SPMD_WATCHDOG="soon"`) {
		t.Errorf("bad SPMD_WATCHDOG: got %v", err)
	}
	w.Transports()[0].Close()
}
