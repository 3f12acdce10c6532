package dagmpi_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// pollCounter is a Transport that counts Progress calls and, by embedding
// only the Transport interface, hides the endpoint's Waker: the Runtime
// must poll it, as it polls MPI.
type pollCounter struct {
	dagmpi.Transport
	polls atomic.Int64
}

func (p *pollCounter) Progress(done []dagmpi.Completion) ([]dagmpi.Completion, error) {
	p.polls.Add(1)
	return p.Transport.Progress(done)
}

// TestNoPollingWhileWorkersBusy: rank 1's only worker runs a 100ms task
// while a receive is pending (rank 0 produces its input after 150ms). A
// message arriving then could not be used before the worker is free, so
// the progress goroutine sleeps the poll interval (1ms) between polls
// instead of spinning (hundreds of thousands of polls) or dozing (one every
// ~60µs): it polls about 100 times, and the chain still finishes with the
// right value once the worker is free.
func TestNoPollingWhileWorkersBusy(t *testing.T) {
	checkNoLeak(t)
	const busy = 100 * time.Millisecond
	w, err := inproc.NewWorld(inproc.Config{Ranks: 2})
	if err != nil {
		t.Fatal(err)
	}
	counters := [2]*pollCounter{{Transport: w.Endpoint(0)}, {Transport: w.Endpoint(1)}}
	var during atomic.Int64
	errs := make([]error, 2)
	done := make(chan int)
	for r := 0; r < 2; r++ {
		go func(r int) {
			defer func() { done <- r }()
			rt, err := dagmpi.New(counters[r], dagmpi.WithWorkers(1), dagmpi.WithOwnedTransport())
			if err != nil {
				errs[r] = err
				return
			}
			defer func() {
				if cerr := rt.Close(); errs[r] == nil {
					errs[r] = cerr
				}
			}()
			x, err := newF64(rt, 1, 0, 1)
			if err != nil {
				errs[r] = err
				return
			}
			y, err := newF64(rt, 1, 1, 0)
			if err != nil {
				errs[r] = err
				return
			}
			// Rank 0: x = 7 after 150ms. Rank 1: a 100ms task on y, then y = x + y.
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				time.Sleep(busy + busy/2)
				x.Buf(tk)[0] = 7
				return nil
			}, x.Write(), dagmpi.Name("produce")); err != nil {
				errs[r] = err
				return
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				p0 := counters[1].polls.Load()
				time.Sleep(busy)
				during.Store(counters[1].polls.Load() - p0)
				y.Buf(tk)[0] = 1
				return nil
			}, y.ReadWrite(), dagmpi.Name("busy")); err != nil {
				errs[r] = err
				return
			}
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				y.Buf(tk)[0] += x.Buf(tk)[0]
				return nil
			}, y.ReadWrite(), x.Read(), dagmpi.Name("sum")); err != nil {
				errs[r] = err
				return
			}
			got, err := y.FetchAll()
			if err == nil && got[0] != 8 {
				err = expect(got, 8, "y")
			}
			errs[r] = err
		}(r)
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("ranks did not finish in 30s")
		}
	}
	noErrors(t, errs)
	n := during.Load()
	t.Logf("rank 1 polled %d times while its only worker ran for %v with a receive pending", n, busy)
	// 100ms at one poll per ms is about 100; a spin or doze polls at least
	// ten times as often.
	if n > 400 {
		t.Errorf("rank 1 polled %d times in %v while its only worker was busy: want about one poll per WithPollInterval (1ms)", n, busy)
	}
}
