// Package randgraph makes random task graphs for dagmpi's property tests,
// with their sequential reference, shared by the in-process and the MPI
// tests.
package randgraph

import (
	"fmt"
	"math"
	"math/rand"

	"github.com/spmd-go/spmd/dagmpi"
)

// Spec is a random task list, identical on every rank that makes it with the
// same arguments.
type Spec struct {
	Sizes []int
	Homes []int
	Init  [][]float64
	Tasks []TaskSpec
}

// TaskSpec is one task: its accesses, priority and explicit rank.
type TaskSpec struct {
	Data  []int
	Modes []dagmpi.Mode
	Prio  int
	Rank  int // -1: owner computes
}

// New makes a random graph of ntasks tasks over ndata Data for ranks ranks.
func New(seed int64, ranks, ndata, ntasks int) *Spec {
	rng := rand.New(rand.NewSource(seed))
	s := &Spec{}
	for d := 0; d < ndata; d++ {
		n := 1 + rng.Intn(9)
		s.Sizes = append(s.Sizes, n)
		s.Homes = append(s.Homes, rng.Intn(ranks))
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		s.Init = append(s.Init, v)
	}
	modes := []dagmpi.Mode{dagmpi.Read, dagmpi.Write, dagmpi.ReadWrite}
	for k := 0; k < ntasks; k++ {
		var ts TaskSpec
		na := 1 + rng.Intn(min(3, ndata))
		for _, d := range rng.Perm(ndata)[:na] {
			ts.Data = append(ts.Data, d)
			ts.Modes = append(ts.Modes, modes[rng.Intn(3)])
		}
		ts.Prio = rng.Intn(3)
		ts.Rank = -1
		if rng.Intn(3) == 0 {
			ts.Rank = rng.Intn(ranks)
		}
		s.Tasks = append(s.Tasks, ts)
	}
	return s
}

// Apply is every task's body: reads first (in declaration order), then
// writes, with a result that depends on every bit read.
func Apply(k int, modes []dagmpi.Mode, bufs [][]float64) {
	acc := float64(k)
	for i, m := range modes {
		if m&dagmpi.Read != 0 {
			for j, v := range bufs[i] {
				acc = acc*0.75 + v*float64(j+1)
			}
		}
	}
	for i, m := range modes {
		if m&dagmpi.Write != 0 {
			for j := range bufs[i] {
				old := 0.0
				if m&dagmpi.Read != 0 {
					old = bufs[i][j]
				}
				bufs[i][j] = math.Sin(acc+float64(j)) + 0.5*old
			}
		}
	}
}

// Sequential runs the spec in submission order.
func (s *Spec) Sequential() [][]float64 {
	data := make([][]float64, len(s.Sizes))
	for d := range data {
		data[d] = append([]float64(nil), s.Init[d]...)
	}
	bufs := make([][]float64, 3)
	for k, ts := range s.Tasks {
		bufs = bufs[:0]
		for _, d := range ts.Data {
			bufs = append(bufs, data[d])
		}
		Apply(k, ts.Modes, bufs)
	}
	return data
}

// Run submits the spec on this rank. With prune, the rank submits only
// the tasks it takes part in, tracking locations itself as a structured
// generator would, and declares the versions produced elsewhere.
func (s *Spec) Run(rt *dagmpi.Runtime, prune bool) ([][]float64, error) {
	me := rt.Rank()
	ds := make([]*dagmpi.Data[float64], len(s.Sizes))
	loc := make([]int, len(s.Sizes))
	for d := range ds {
		var init []float64
		if me == s.Homes[d] {
			init = s.Init[d]
		}
		var err error
		if ds[d], err = dagmpi.NewData(rt, s.Sizes[d], s.Homes[d], init); err != nil {
			return nil, err
		}
		loc[d] = s.Homes[d]
	}
	args := make([]dagmpi.Arg, 0, 8)
	for k, ts := range s.Tasks {
		exec := ts.Rank
		if exec < 0 {
			exec = -1
			for i, d := range ts.Data {
				if ts.Modes[i]&dagmpi.Write != 0 {
					exec = loc[d]
					break
				}
			}
			if exec < 0 {
				exec = loc[ts.Data[0]]
			}
		}
		involved := exec == me
		for i, d := range ts.Data {
			if ts.Modes[i]&dagmpi.Read != 0 && loc[d] == me {
				involved = true
			}
		}
		if prune && !involved {
			for i, d := range ts.Data {
				if ts.Modes[i]&dagmpi.Write != 0 {
					if err := ds[ts.Data[i]].ProducedOn(exec); err != nil {
						return nil, err
					}
					loc[d] = exec
				}
			}
			continue
		}
		args = args[:0]
		for i, d := range ts.Data {
			switch ts.Modes[i] {
			case dagmpi.Read:
				args = append(args, ds[d].Read())
			case dagmpi.Write:
				args = append(args, ds[d].Write())
			default:
				args = append(args, ds[d].ReadWrite())
			}
		}
		args = append(args, dagmpi.Priority(ts.Prio), dagmpi.Name(fmt.Sprintf("t%d", k)))
		if ts.Rank >= 0 {
			args = append(args, dagmpi.OnRank(ts.Rank))
		}
		k, ts := k, ts
		err := rt.Submit(func(t *dagmpi.Task) error {
			if t.Rank() != exec {
				return fmt.Errorf("task %d runs on rank %d, the model says %d", k, t.Rank(), exec)
			}
			bufs := make([][]float64, len(ts.Data))
			for i, d := range ts.Data {
				bufs[i] = ds[d].Buf(t)
			}
			Apply(k, ts.Modes, bufs)
			return nil
		}, args...)
		if err != nil {
			return nil, err
		}
		for i, d := range ts.Data {
			if ts.Modes[i]&dagmpi.Write != 0 {
				loc[d] = exec
			}
		}
	}
	out := make([][]float64, len(ds))
	for d := range ds {
		v, err := ds[d].Fetch(d % rt.Size())
		if err != nil {
			return nil, err
		}
		out[d] = v
	}
	return out, rt.Wait()
}

// SameBits reports whether a and b are equal bit for bit.
func SameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// Check runs the spec on this rank and compares, bit for bit, the data
// whose Fetch root is this rank (data d goes to rank d mod size) with
// the sequential reference. It returns the first difference or error.
func (s *Spec) Check(rt *dagmpi.Runtime, prune bool) error {
	want := s.Sequential()
	got, err := s.Run(rt, prune)
	if err != nil {
		return err
	}
	for d := range got {
		if d%rt.Size() == rt.Rank() && !SameBits(got[d], want[d]) {
			return fmt.Errorf("rank %d: data %d: got %v, want %v", rt.Rank(), d, got[d], want[d])
		}
	}
	return nil
}
