// Package cases holds the distributed tests of package blockcyclic as plain
// functions that run on every rank of a job, so that the same cases run on
// an in-process world of goroutine ranks (fast, under -race: the blockcyclic
// package tests) and under mpirun over the MPI transport (package
// blockcyclic/internal/mpirun, at 1 to 4 ranks).
//
// A case makes the same submissions on every rank and returns an error that
// says what was wrong (sizes, grid, residual and its tolerance); it never
// calls testing functions itself, so it is safe on any goroutine.
package cases

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// Case is one distributed test.
type Case struct {
	Name string
	// Run is called on every rank with that rank's Runtime.
	Run func(rt *dagmpi.Runtime) error
	// Pruned runs the case on Runtimes created WithPruned as well.
	Pruned bool
}

var (
	mu  sync.Mutex
	all = map[string]Case{}
)

// Register adds c to the cases; it panics on a duplicate name.
func Register(c Case) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := all[c.Name]; dup {
		panic("cases: duplicate case " + c.Name)
	}
	all[c.Name] = c
}

// All returns the registered cases sorted by name.
func All() []Case {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Case, 0, len(all))
	for _, c := range all {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Variant is a set of runtime options a case runs with.
type Variant struct {
	Name string
	Opts []dagmpi.Option
}

// Variants returns the option sets a case runs with, in the same order on
// every rank: the default, and WithPruned when the case supports it.
func Variants(c Case) []Variant {
	v := []Variant{{Name: "full"}}
	if c.Pruned {
		v = append(v, Variant{Name: "pruned", Opts: []dagmpi.Option{dagmpi.WithPruned()}})
	}
	return v
}

// InProc runs c on every rank of a fresh in-process world of n ranks (with
// seeded message delays) and reports each rank's error on t.
func InProc(t *testing.T, c Case, n int, opts ...dagmpi.Option) {
	t.Helper()
	w, err := inproc.NewWorld(inproc.Config{Ranks: n, Seed: int64(n), MaxDelay: 20 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, n)
	failed := make(chan struct{}, n)
	var wg sync.WaitGroup
	for r := 0; r < n; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			o := append([]dagmpi.Option{dagmpi.WithOwnedTransport(), dagmpi.WithWorkers(2), dagmpi.WithWatchdog(60 * time.Second)}, opts...)
			rt, err := dagmpi.New(w.Endpoint(r), o...)
			if err == nil {
				err = c.Run(rt)
				if err != nil {
					failed <- struct{}{}
				}
				if cerr := rt.Close(); err == nil {
					err = cerr
				}
			}
			mu.Lock()
			errs[r] = err
			mu.Unlock()
		}(r)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	// A rank whose case failed leaves the others waiting in a collective
	// call: give them a few seconds, then report what is known.
	select {
	case <-done:
	case <-failed:
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s at %d ranks: a rank failed and the others did not finish within 5s", c.Name, n)
		}
	case <-time.After(120 * time.Second):
		buf := make([]byte, 1<<20)
		t.Errorf("%s: ranks did not finish within 120s; goroutines:\n%s", c.Name, buf[:runtime.Stack(buf, true)])
	}
	mu.Lock()
	defer mu.Unlock()
	for r, err := range errs {
		if err != nil {
			t.Errorf("%s at %d ranks: rank %d: %v", c.Name, n, r, err)
		}
	}
}

// Errorf is fmt.Errorf, for cases.
func Errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
