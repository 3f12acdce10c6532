package collective_test

import (
	"testing"

	"github.com/spmd-go/spmd/collective"
	"github.com/spmd-go/spmd/collective/collectivetest"
	"github.com/spmd-go/spmd/mpi"
)

// newContext returns a Context over a fresh Dup of the world, closed (and
// the Dup freed) when the test ends.
func newContext(t *testing.T, opts ...collective.Option) *collective.Context {
	t.Helper()
	c, err := mpi.World().Dup()
	if err != nil {
		t.Fatal(err)
	}
	x, err := collective.NewContext(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := x.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		c.Free()
	})
	return x
}

func TestConformance(t *testing.T) {
	collectivetest.Run(t, newContext(t))
}

// TestConformanceSmallTagRange runs the concurrent cases with only 8 tags,
// so sequence numbers wrap many times.
func TestConformanceSmallTagRange(t *testing.T) {
	x := newContext(t, collective.Tags(3, 8))
	for i := 0; i < 20; i++ {
		if err := collectivetest.Concurrent(x); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
}
