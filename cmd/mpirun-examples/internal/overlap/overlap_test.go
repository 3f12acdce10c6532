package overlap

import (
	"math"
	"testing"
)

// TestHidden checks the measure on hand-made events: rank 0 sends during
// [1, 3] while computing during [2, 5]; rank 1 posted the receive at 0 (moved
// to the send's start, 1), it ends at 3, and rank 1 computes during [0, 1.5].
// Rank 0: comm 2, hidden 1. Rank 1: comm [1, 3] = 2, hidden [1, 1.5] = 0.5.
func TestHidden(t *testing.T) {
	ev := []Event{
		{Rank: 0, Transfer: true, Send: true, Peer: 1, Seq: 4, Start: 1, End: 3},
		{Rank: 0, Compute: true, Start: 2, End: 5},
		{Rank: 0, Start: 0, End: 10}, // a task that is not compute
		{Rank: 1, Transfer: true, Peer: 0, Seq: 4, Start: 0, End: 3},
		{Rank: 1, Compute: true, Start: 0, End: 1.5},
	}
	ev = Unflatten(Flatten(ev))
	comm, hidden := Hidden(ev)
	if math.Abs(comm-4) > 1e-12 || math.Abs(hidden-1.5) > 1e-12 {
		t.Errorf("Hidden = %v, %v; want 4, 1.5", comm, hidden)
	}
	if b := Busy(ev, 0); b != 13 {
		t.Errorf("Busy(rank 0) = %v, want 13", b)
	}
}

// TestUnion checks overlapping and touching intervals merge.
func TestUnion(t *testing.T) {
	u := union([]span{{3, 4}, {0, 1}, {0.5, 2}, {2, 2.5}, {5, 5}})
	if len(u) != 2 || u[0] != (span{0, 2.5}) || u[1] != (span{3, 4}) {
		t.Errorf("union = %v", u)
	}
	if got := intersect(u, []span{{1, 3.5}}); math.Abs(got-2) > 1e-12 {
		t.Errorf("intersect = %v, want 2", got)
	}
}
