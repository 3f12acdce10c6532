package dagmpi_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// chainWorkers runs a chain of n tasks bouncing one value between two
// ranks (task i on rank i%2, x = 2x + i), checks the result, and returns
// for every task the value of Task.Worker() and of Runtime.Workers() on
// the rank that ran it. slow(i) may delay task i.
func chainWorkers(t *testing.T, n int, opts []dagmpi.Option, slow func(i int) time.Duration) (worker, workers []int) {
	t.Helper()
	worker = make([]int, n)
	workers = make([]int, n)
	errs := spmd(t, inproc.Config{Ranks: 2, Seed: 1}, opts, func(rt *dagmpi.Runtime) error {
		x, err := newF64(rt, 1, 0, 1)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			err := rt.Submit(func(tk *dagmpi.Task) error {
				worker[i], workers[i] = tk.Worker(), rt.Workers()
				if d := slow(i); d > 0 {
					time.Sleep(d)
				}
				b := x.Buf(tk)
				b[0] = b[0]*2 + float64(i)
				return nil
			}, x.ReadWrite(), dagmpi.OnRank(i%2), dagmpi.Name(fmt.Sprint("step", i)))
			if err != nil {
				return err
			}
		}
		got, err := x.FetchAll()
		if err != nil {
			return err
		}
		want := 1.0
		for i := 0; i < n; i++ {
			want = want*2 + float64(i)
		}
		if got[0] != want {
			return fmt.Errorf("rank %d: got %v, want %v", rt.Rank(), got[0], want)
		}
		return nil
	})
	noErrors(t, errs)
	return worker, workers
}

func never(int) time.Duration { return 0 }

// TestInlineChain: in a chain across two ranks every task but the first
// becomes ready when its input arrives, with no worker busy and nothing
// else ready, so it runs on the progress goroutine (Worker() ==
// Workers()); the first task is ready at Submit and runs on a worker.
func TestInlineChain(t *testing.T) {
	checkNoLeak(t)
	const n = 40
	w, ws := chainWorkers(t, n, []dagmpi.Option{dagmpi.WithWorkers(2), dagmpi.WithInline(time.Hour)}, never)
	if w[0] < 0 || w[0] >= ws[0] {
		t.Errorf("task 0 (ready at Submit) ran on worker %d, want a worker in [0, %d)", w[0], ws[0])
	}
	for i := 1; i < n; i++ {
		if w[i] != ws[i] {
			t.Errorf("task %d ran on worker %d, want %d (the progress goroutine)", i, w[i], ws[i])
		}
	}
}

// TestInlineOff: WithInline(0) runs every task on a worker.
func TestInlineOff(t *testing.T) {
	checkNoLeak(t)
	const n = 20
	w, ws := chainWorkers(t, n, []dagmpi.Option{dagmpi.WithWorkers(2), dagmpi.WithInline(0)}, never)
	for i := range w {
		if w[i] < 0 || w[i] >= ws[i] {
			t.Errorf("task %d ran on worker %d, want a worker in [0, %d)", i, w[i], ws[i])
		}
	}
}

// TestInlinePausesAfterLongBody: a body longer than the WithInline bound
// pauses inline runs (for 100 times its length), so the next tasks go to
// workers.
func TestInlinePausesAfterLongBody(t *testing.T) {
	checkNoLeak(t)
	const n = 6
	slow := func(i int) time.Duration {
		if i == 1 {
			return 5 * time.Millisecond // pauses inline runs on rank 1 for ~500ms
		}
		return 0
	}
	w, ws := chainWorkers(t, n, []dagmpi.Option{dagmpi.WithWorkers(1), dagmpi.WithInline(time.Millisecond)}, slow)
	if w[1] != ws[1] {
		t.Errorf("task 1 ran on worker %d, want %d (inline: nothing was known about its length)", w[1], ws[1])
	}
	for i := 3; i < n; i += 2 {
		if w[i] == ws[i] {
			t.Errorf("task %d (rank 1) ran inline right after a 5ms inline body; want a worker", i)
		}
	}
	if w[2] != ws[2] {
		t.Errorf("task 2 (rank 0, no long body there) ran on worker %d, want %d (inline)", w[2], ws[2])
	}
}

// TestInlineNotWhileWorkerBusy: a task whose input arrives while a worker
// of its rank runs a body is left to a worker.
func TestInlineNotWhileWorkerBusy(t *testing.T) {
	checkNoLeak(t)
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	var got, workers int
	errs := spmd(t, inproc.Config{Ranks: 2, Seed: 1}, []dagmpi.Option{dagmpi.WithWorkers(2), dagmpi.WithInline(time.Hour)},
		func(rt *dagmpi.Runtime) error {
			a, err := newF64(rt, 1, 0, 1) // produced on rank 0, read on rank 1
			if err != nil {
				return err
			}
			b, err := newF64(rt, 1, 1, 0) // rank 1's busy task
			if err != nil {
				return err
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				close(started)
				<-release
				return nil
			}, b.ReadWrite(), dagmpi.Name("busy")); err != nil {
				return err
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				<-started // rank 1's worker is now inside "busy"
				a.Buf(tk)[0] = 2
				return nil
			}, a.ReadWrite(), dagmpi.Name("produce")); err != nil {
				return err
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				got, workers = tk.Worker(), rt.Workers()
				once.Do(func() { close(release) })
				if v := a.Buf(tk)[0]; v != 2 {
					return fmt.Errorf("consume read %v, want 2", v)
				}
				return nil
			}, a.Read(), dagmpi.OnRank(1), dagmpi.Name("consume")); err != nil {
				return err
			}
			return rt.Wait()
		})
	noErrors(t, errs)
	if got < 0 || got >= workers {
		t.Errorf("consume ran on worker %d while another worker was busy; want a worker in [0, %d)", got, workers)
	}
}

// TestInlineNotAfterSend: a task made ready by a send's completion (it
// overwrites the data sent) runs on a worker: only arrivals make tasks
// eligible, so that a producer cannot run ahead of its consumers inline.
func TestInlineNotAfterSend(t *testing.T) {
	checkNoLeak(t)
	submitted := make(chan struct{})
	var got, workers int
	errs := spmd(t, inproc.Config{Ranks: 2, Seed: 1}, []dagmpi.Option{dagmpi.WithWorkers(1), dagmpi.WithInline(time.Hour)},
		func(rt *dagmpi.Runtime) error {
			x, err := newF64(rt, 1, 0, 1)
			if err != nil {
				return err
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error { x.Buf(tk)[0] = 2; return nil }, x.ReadWrite(), dagmpi.Name("produce")); err != nil {
				return err
			}
			if rt.Rank() == 1 {
				<-submitted // rank 1 posts its receive only once "overwrite" waits for the send
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				if v := x.Buf(tk)[0]; v != 2 {
					return fmt.Errorf("read %v, want 2", v)
				}
				return nil
			}, x.Read(), dagmpi.OnRank(1), dagmpi.Name("read")); err != nil {
				return err
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				got, workers = tk.Worker(), rt.Workers()
				x.Buf(tk)[0] = 3
				return nil
			}, x.Write(), dagmpi.OnRank(0), dagmpi.Name("overwrite")); err != nil {
				return err
			}
			if rt.Rank() == 0 {
				close(submitted)
			}
			return rt.Wait()
		})
	noErrors(t, errs)
	if got < 0 || got >= workers {
		t.Errorf("overwrite (ready when the send of x finished) ran on worker %d, want a worker in [0, %d)", got, workers)
	}
}
