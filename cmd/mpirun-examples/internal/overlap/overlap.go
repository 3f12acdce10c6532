// Package overlap records a rank's task and transfer events (a
// dagmpi.Observer) and measures how much of the communication ran while
// tasks computed, and how long each rank was busy.
//
// A transfer's interval is [start, end] of its send on the sending rank, and
// of its receive on the receiving rank, but a receive's start is moved to the
// start of the matching send when that is later: a receive posted long before
// its data exists is waiting, not communicating. Matching sends and receives
// needs the events of both ranks, so the measure is taken over the events of
// all ranks (Flatten and Unflatten carry them to one rank).
package overlap

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
)

// Event is one task run or one finished transfer, in seconds since an epoch
// shared by the ranks of a job on one machine (Unix time).
type Event struct {
	Rank       int
	Compute    bool // a task whose name has one of the Recorder's compute prefixes
	Transfer   bool
	Send       bool
	Peer       int
	Seq        uint64
	Start, End float64
}

// Recorder is a dagmpi.Observer that keeps every event, and forwards them to
// Next if set (for example a *dagmpi.ChromeTrace).
type Recorder struct {
	// Compute names the task name prefixes counted as computation.
	Compute []string
	Next    dagmpi.Observer

	mu     sync.Mutex
	events []Event
}

var _ dagmpi.Observer = (*Recorder)(nil)

func secs(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// Task implements dagmpi.Observer.
func (r *Recorder) Task(e dagmpi.TaskEvent) {
	c := false
	for _, p := range r.Compute {
		if strings.HasPrefix(e.Name, p) {
			c = true
			break
		}
	}
	r.mu.Lock()
	r.events = append(r.events, Event{Rank: e.Rank, Compute: c, Start: secs(e.Start), End: secs(e.End)})
	r.mu.Unlock()
	if r.Next != nil {
		r.Next.Task(e)
	}
}

// Transfer implements dagmpi.Observer.
func (r *Recorder) Transfer(e dagmpi.TransferEvent) {
	r.mu.Lock()
	r.events = append(r.events, Event{Rank: e.Rank, Transfer: true, Send: e.Send, Peer: e.Peer, Seq: e.Seq,
		Start: secs(e.Start), End: secs(e.End)})
	r.mu.Unlock()
	if r.Next != nil {
		r.Next.Transfer(e)
	}
}

// Events returns the events so far and forgets them.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.events
	r.events = nil
	return e
}

// Busy returns the total time of the task events of rank (seconds).
func Busy(events []Event, rank int) float64 {
	var s float64
	for _, e := range events {
		if !e.Transfer && e.Rank == rank {
			s += e.End - e.Start
		}
	}
	return s
}

const fields = 8

// Flatten encodes events as float64s (fields per event), for a gather.
func Flatten(events []Event) []float64 {
	out := make([]float64, 0, fields*len(events))
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	for _, e := range events {
		out = append(out, float64(e.Rank), b(e.Compute), b(e.Transfer), b(e.Send), float64(e.Peer), float64(e.Seq), e.Start, e.End)
	}
	return out
}

// Unflatten decodes what Flatten encoded.
func Unflatten(f []float64) []Event {
	var out []Event
	for i := 0; i+fields <= len(f); i += fields {
		out = append(out, Event{Rank: int(f[i]), Compute: f[i+1] != 0, Transfer: f[i+2] != 0, Send: f[i+3] != 0,
			Peer: int(f[i+4]), Seq: uint64(f[i+5]), Start: f[i+6], End: f[i+7]})
	}
	return out
}

type span struct{ a, b float64 }

// union merges intervals into disjoint sorted ones.
func union(s []span) []span {
	slices.SortFunc(s, func(x, y span) int {
		switch {
		case x.a < y.a:
			return -1
		case x.a > y.a:
			return 1
		}
		return 0
	})
	var out []span
	for _, v := range s {
		if v.b <= v.a {
			continue
		}
		if n := len(out); n > 0 && v.a <= out[n-1].b {
			out[n-1].b = max(out[n-1].b, v.b)
			continue
		}
		out = append(out, v)
	}
	return out
}

func length(s []span) float64 {
	var t float64
	for _, v := range s {
		t += v.b - v.a
	}
	return t
}

// intersect returns the total length of the intersection of two unions.
func intersect(x, y []span) float64 {
	var t float64
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		a, b := max(x[i].a, y[j].a), min(x[i].b, y[j].b)
		if b > a {
			t += b - a
		}
		if x[i].b < y[j].b {
			i++
		} else {
			j++
		}
	}
	return t
}

// Hidden returns, over all ranks, the communication time (the union per rank
// of its transfer intervals, summed over ranks) and the part of it during
// which the same rank ran a compute task. Their ratio is the fraction of the
// communication hidden behind computation.
func Hidden(events []Event) (comm, hidden float64) {
	type key struct {
		src, dst int
		seq      uint64
	}
	sendStart := map[key]float64{}
	ranks := 0
	for _, e := range events {
		ranks = max(ranks, e.Rank+1)
		if e.Transfer && e.Send {
			sendStart[key{e.Rank, e.Peer, e.Seq}] = e.Start
		}
	}
	commBy := make([][]span, ranks)
	compBy := make([][]span, ranks)
	for _, e := range events {
		switch {
		case e.Transfer:
			a := e.Start
			if !e.Send {
				if s, ok := sendStart[key{e.Peer, e.Rank, e.Seq}]; ok && s > a {
					a = s
				}
			}
			commBy[e.Rank] = append(commBy[e.Rank], span{a, e.End})
		case e.Compute:
			compBy[e.Rank] = append(compBy[e.Rank], span{e.Start, e.End})
		}
	}
	for r := range ranks {
		c := union(commBy[r])
		comm += length(c)
		hidden += intersect(c, union(compBy[r]))
	}
	return comm, hidden
}
