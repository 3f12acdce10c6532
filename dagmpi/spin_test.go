package dagmpi_test

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// stubbornSpinner is an in-process endpoint whose Spin ignores its
// duration: it returns only when something completes or attn is set. A
// Runtime that forgot to set attn when it has something to post (a send
// from a worker, a receive from the submitter, Close) would hang on it.
// After stuckAfter it gives up and counts a stuck Spin.
type stubbornSpinner struct {
	*inproc.Endpoint
	spins, stuck atomic.Int64
}

const stuckAfter = 5 * time.Second

func (s *stubbornSpinner) Spin(out []dagmpi.Completion, _ time.Duration, attn *atomic.Uint32) ([]dagmpi.Completion, error) {
	s.spins.Add(1)
	n := len(out)
	t0 := time.Now()
	for {
		var err error
		if out, err = s.Progress(out); err != nil || len(out) > n || attn.Load() != 0 {
			return out, err
		}
		if time.Since(t0) > stuckAfter {
			s.stuck.Add(1)
			return out, nil
		}
		runtime.Gosched()
	}
}

// TestSpinnerAttention: a chain across two ranks whose tasks run on
// workers (no inline runs), so that every send is handed over by a worker
// while the progress goroutine sits in Spin, plus data the submitter
// fetches at the end. Over a Spinner that returns only for a completion or
// attn, it finishes with the right value, no Spin waits for its own
// timeout, Spin was used on both ranks, and no goroutine is left behind.
func TestSpinnerAttention(t *testing.T) {
	checkNoLeak(t)
	w, err := inproc.NewWorld(inproc.Config{Ranks: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	eps := []*stubbornSpinner{{Endpoint: w.Endpoint(0)}, {Endpoint: w.Endpoint(1)}}
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range eps {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			errs[r] = func() error {
				rt, err := dagmpi.New(eps[r], dagmpi.WithWorkers(2), dagmpi.WithInline(0), dagmpi.WithWatchdog(20*time.Second), dagmpi.WithOwnedTransport())
				if err != nil {
					return err
				}
				defer rt.Close()
				x, err := newF64(rt, 1, 0, 1)
				if err != nil {
					return err
				}
				for i := 0; i < n; i++ {
					if err := rt.Submit(func(tk *dagmpi.Task) error {
						b := x.Buf(tk)
						b[0] = b[0]*2 + float64(i)
						if i%50 == 0 {
							time.Sleep(time.Millisecond) // let the peer settle into Spin
						}
						return nil
					}, x.ReadWrite(), dagmpi.OnRank(i%2)); err != nil {
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
				return rt.Close()
			}()
		}(r)
	}
	wg.Wait()
	noErrors(t, errs)
	for r, ep := range eps {
		if ep.spins.Load() == 0 {
			t.Errorf("rank %d: the runtime never called Spin", r)
		}
		if k := ep.stuck.Load(); k > 0 {
			t.Errorf("rank %d: %d Spin calls waited %v with nothing to complete and attn never set", r, k, stuckAfter)
		}
	}
}
