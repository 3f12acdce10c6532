package dagmpi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// bare hides every optional capability of a Transport (PathNamer among
// them).
type bare struct{ dagmpi.Transport }

// pathed names paths and reports every completion on path.
type pathed struct {
	dagmpi.Transport
	names []string
	path  uint8
}

func (p *pathed) Paths() []string { return p.names }

func (p *pathed) Progress(done []dagmpi.Completion) ([]dagmpi.Completion, error) {
	n := len(done)
	done, err := p.Transport.Progress(done)
	for i := range done[n:] {
		done[n+i].Path = p.path
	}
	return done, err
}

// spmdWrapped is spmd over endpoints wrapped by wrap.
func spmdWrapped(t *testing.T, ranks int, wrap func(dagmpi.Transport) dagmpi.Transport, body func(rt *dagmpi.Runtime) error) []error {
	t.Helper()
	opts := []dagmpi.Option{dagmpi.WithWatchdog(30e9)}
	return spmdWith(t, inproc.Config{Ranks: ranks}, func(int) []dagmpi.Option { return opts }, wrap, body)
}

// oneSend moves one 10-float64 version from rank 0 to rank 1.
func oneSend(rt *dagmpi.Runtime) error {
	x, err := dagmpi.NewData[float64](rt, 10, 0, nil)
	if err != nil {
		return err
	}
	if err := rt.Submit(func(*dagmpi.Task) error { return nil }, x.Read(), dagmpi.OnRank(1)); err != nil {
		return err
	}
	return rt.Wait()
}

func TestStatsByTransport(t *testing.T) {
	checkNoLeak(t)
	for _, c := range []struct {
		name string
		wrap func(dagmpi.Transport) dagmpi.Transport
		key  string
	}{
		{"inproc", func(tr dagmpi.Transport) dagmpi.Transport { return tr }, "inproc"},
		{"unnamed", func(tr dagmpi.Transport) dagmpi.Transport { return bare{tr} }, "unnamed"},
		{"second-path", func(tr dagmpi.Transport) dagmpi.Transport {
			return &pathed{Transport: tr, names: []string{"a", "b"}, path: 1}
		}, "b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stats [2]dagmpi.Stats
			errs := spmdWrapped(t, 2, c.wrap, func(rt *dagmpi.Runtime) error {
				if err := pipeline(rt); err != nil {
					return err
				}
				stats[rt.Rank()] = rt.Stats()
				return nil
			})
			noErrors(t, errs)
			for r, s := range stats {
				if got, want := s.ByTransport[c.key], (dagmpi.TransportBytes{Sends: 1, Bytes: 32}); got != want {
					t.Errorf("rank %d: ByTransport[%q] = %+v, want %+v (all of %+v)", r, c.key, got, want, s.ByTransport)
				}
				var sum dagmpi.TransportBytes
				for _, b := range s.ByTransport {
					sum.Sends += b.Sends
					sum.Bytes += b.Bytes
				}
				if sum.Sends != s.Sends || sum.Bytes != s.BytesSent {
					t.Errorf("rank %d: ByTransport %+v sums to %+v, want sends %d, bytes %d", r, s.ByTransport, sum, s.Sends, s.BytesSent)
				}
			}
			if c.key == "b" {
				if a, ok := stats[0].ByTransport["a"]; !ok || a != (dagmpi.TransportBytes{}) {
					t.Errorf("unused path a: %+v (present %v), want present at zero", a, ok)
				}
			}
		})
	}
}

// TestStatsBadPaths checks that New refuses path names it cannot count
// under, and that a path index beyond the names ends the job with an error
// that names it.
func TestStatsBadPaths(t *testing.T) {
	w, err := inproc.NewWorld(inproc.Config{Ranks: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		names []string
		tree  bool
		want  string
	}{
		{nil, false, "names 0 paths"},
		{strings.Split("a b c d e f g h i", " "), false, "names 9 paths"},
		{[]string{"a", ""}, false, `path 1 ""`},
		{[]string{"a", "a"}, false, `path "a" twice`},
		{[]string{"tree"}, true, `path 0 "tree"`},
	} {
		opts := []dagmpi.Option{}
		if c.tree {
			opts = append(opts, dagmpi.WithBroadcastTree())
		}
		_, err := dagmpi.New(&pathed{Transport: w.Endpoint(0), names: c.names}, opts...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("paths %q: error %v, want one containing %q", c.names, err, c.want)
		}
	}

	errs := spmdWrapped(t, 2, func(tr dagmpi.Transport) dagmpi.Transport {
		return &pathed{Transport: tr, names: []string{"a", "b"}, path: 2}
	}, oneSend)
	want := "transport reported path 2 for the send of data"
	if errs[0] == nil || !strings.Contains(errs[0].Error(), want) {
		t.Errorf("rank 0: error %v, want one containing %q", errs[0], want)
	}
	if errs[1] != nil {
		t.Errorf("rank 1 (it only receives): %v", errs[1])
	}
}

// TestStatsByTransportTree checks that broadcast-tree forwards count under
// "tree" and the location's sends under the transport's path.
func TestStatsByTransportTree(t *testing.T) {
	checkNoLeak(t)
	const p, n = 4, 100
	stats := make([]dagmpi.Stats, p)
	errs := spmd(t, inproc.Config{Ranks: p}, []dagmpi.Option{dagmpi.WithBroadcastTree()}, func(rt *dagmpi.Runtime) error {
		x, err := dagmpi.NewData[float64](rt, n, 0, nil)
		if err != nil {
			return err
		}
		// Readers 1, 2, 3 are tree nodes 1, 2, 3: rank 0 sends to 1 and
		// 2, and rank 1 forwards to 3.
		for r := 1; r < p; r++ {
			if err := rt.Submit(func(*dagmpi.Task) error { return nil }, x.Read(), dagmpi.OnRank(r)); err != nil {
				return err
			}
		}
		if err := rt.Wait(); err != nil {
			return err
		}
		stats[rt.Rank()] = rt.Stats()
		return nil
	})
	noErrors(t, errs)
	const b = 8 * n
	want := []map[string]dagmpi.TransportBytes{
		{"inproc": {2, 2 * b}, "tree": {}},
		{"inproc": {}, "tree": {1, b}},
		{"inproc": {}, "tree": {}},
		{"inproc": {}, "tree": {}},
	}
	for r := range p {
		if got := fmt.Sprint(stats[r].ByTransport); got != fmt.Sprint(want[r]) {
			t.Errorf("rank %d: ByTransport %s, want %v", r, got, want[r])
		}
	}
}
