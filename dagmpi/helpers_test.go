package dagmpi_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// spmd runs body on every rank of a fresh in-process world, each with its
// own Runtime, and returns the per-rank errors (of body, then of Close).
func spmd(t testing.TB, cfg inproc.Config, opts []dagmpi.Option, body func(rt *dagmpi.Runtime) error) []error {
	t.Helper()
	return spmdPer(t, cfg, func(int) []dagmpi.Option { return opts }, body)
}

// spmdPer is spmd with options chosen per rank.
func spmdPer(t testing.TB, cfg inproc.Config, rankOpts func(rank int) []dagmpi.Option, body func(rt *dagmpi.Runtime) error) []error {
	t.Helper()
	return spmdWith(t, cfg, rankOpts, nil, body)
}

// spmdWith is spmdPer over endpoints wrapped by wrap (nil: as they are).
func spmdWith(t testing.TB, cfg inproc.Config, rankOpts func(rank int) []dagmpi.Option, wrap func(dagmpi.Transport) dagmpi.Transport, body func(rt *dagmpi.Runtime) error) []error {
	t.Helper()
	w, err := inproc.NewWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, cfg.Ranks)
	var wg sync.WaitGroup
	for r := 0; r < cfg.Ranks; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			o := append(append([]dagmpi.Option(nil), rankOpts(r)...), dagmpi.WithOwnedTransport())
			var tr dagmpi.Transport = w.Endpoint(r)
			if wrap != nil {
				tr = wrap(tr)
			}
			rt, err := dagmpi.New(tr, o...)
			if err != nil {
				errs[r] = err
				return
			}
			err = body(rt)
			if cerr := rt.Close(); err == nil {
				err = cerr
			}
			errs[r] = err
		}(r)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("ranks did not finish within 60s; goroutines:\n%s", buf[:n])
	}
	return errs
}

// noErrors fails the test for every rank's error.
func noErrors(t testing.TB, errs []error) {
	t.Helper()
	for r, err := range errs {
		if err != nil {
			t.Errorf("rank %d: %v", r, err)
		}
	}
}

// checkNoLeak fails if goroutines started during the test are still there.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				k := runtime.Stack(buf, true)
				t.Errorf("%d goroutines before the test, %d after:\n%s", before, n, buf[:k])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func contains(err error, parts ...string) error {
	if err == nil {
		return fmt.Errorf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			return fmt.Errorf("error %q does not contain %q", err, p)
		}
	}
	return nil
}
