package dagmpi_test

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// A random task list, identical on every rank (same seed).
type spec struct {
	sizes []int
	homes []int
	init  [][]float64
	tasks []taskSpec
}

type taskSpec struct {
	data  []int
	modes []dagmpi.Mode
	prio  int
	rank  int // -1: owner computes
}

func randomSpec(seed int64, ranks, ndata, ntasks int) *spec {
	rng := rand.New(rand.NewSource(seed))
	s := &spec{}
	for d := 0; d < ndata; d++ {
		n := 1 + rng.Intn(9)
		s.sizes = append(s.sizes, n)
		s.homes = append(s.homes, rng.Intn(ranks))
		v := make([]float64, n)
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		s.init = append(s.init, v)
	}
	modes := []dagmpi.Mode{dagmpi.Read, dagmpi.Write, dagmpi.ReadWrite}
	for k := 0; k < ntasks; k++ {
		var ts taskSpec
		na := 1 + rng.Intn(min(3, ndata))
		for _, d := range rng.Perm(ndata)[:na] {
			ts.data = append(ts.data, d)
			ts.modes = append(ts.modes, modes[rng.Intn(3)])
		}
		ts.prio = rng.Intn(3)
		ts.rank = -1
		if rng.Intn(3) == 0 {
			ts.rank = rng.Intn(ranks)
		}
		s.tasks = append(s.tasks, ts)
	}
	return s
}

// apply is every task's body: reads first (in declaration order), then
// writes, with a result that depends on every bit read.
func apply(k int, modes []dagmpi.Mode, bufs [][]float64) {
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

// sequential runs the spec in submission order.
func (s *spec) sequential() [][]float64 {
	data := make([][]float64, len(s.sizes))
	for d := range data {
		data[d] = append([]float64(nil), s.init[d]...)
	}
	bufs := make([][]float64, 3)
	for k, ts := range s.tasks {
		bufs = bufs[:0]
		for _, d := range ts.data {
			bufs = append(bufs, data[d])
		}
		apply(k, ts.modes, bufs)
	}
	return data
}

// run submits the spec on this rank. With prune, the rank submits only
// the tasks it takes part in, tracking locations itself as a structured
// generator would, and declares the versions produced elsewhere.
func (s *spec) run(rt *dagmpi.Runtime, prune bool) ([][]float64, error) {
	me := rt.Rank()
	ds := make([]*dagmpi.Data[float64], len(s.sizes))
	loc := make([]int, len(s.sizes))
	for d := range ds {
		var init []float64
		if me == s.homes[d] {
			init = s.init[d]
		}
		var err error
		if ds[d], err = dagmpi.NewData(rt, s.sizes[d], s.homes[d], init); err != nil {
			return nil, err
		}
		loc[d] = s.homes[d]
	}
	args := make([]dagmpi.Arg, 0, 8)
	for k, ts := range s.tasks {
		exec := ts.rank
		if exec < 0 {
			exec = -1
			for i, d := range ts.data {
				if ts.modes[i]&dagmpi.Write != 0 {
					exec = loc[d]
					break
				}
			}
			if exec < 0 {
				exec = loc[ts.data[0]]
			}
		}
		involved := exec == me
		for i, d := range ts.data {
			if ts.modes[i]&dagmpi.Read != 0 && loc[d] == me {
				involved = true
			}
		}
		if prune && !involved {
			for i, d := range ts.data {
				if ts.modes[i]&dagmpi.Write != 0 {
					if err := ds[ts.data[i]].ProducedOn(exec); err != nil {
						return nil, err
					}
					loc[d] = exec
				}
			}
			continue
		}
		args = args[:0]
		for i, d := range ts.data {
			switch ts.modes[i] {
			case dagmpi.Read:
				args = append(args, ds[d].Read())
			case dagmpi.Write:
				args = append(args, ds[d].Write())
			default:
				args = append(args, ds[d].ReadWrite())
			}
		}
		args = append(args, dagmpi.Priority(ts.prio), dagmpi.Name(fmt.Sprintf("t%d", k)))
		if ts.rank >= 0 {
			args = append(args, dagmpi.OnRank(ts.rank))
		}
		k, ts := k, ts
		err := rt.Submit(func(t *dagmpi.Task) error {
			if t.Rank() != exec {
				return fmt.Errorf("task %d runs on rank %d, the model says %d", k, t.Rank(), exec)
			}
			bufs := make([][]float64, len(ts.data))
			for i, d := range ts.data {
				bufs[i] = ds[d].Buf(t)
			}
			apply(k, ts.modes, bufs)
			return nil
		}, args...)
		if err != nil {
			return nil, err
		}
		for i, d := range ts.data {
			if ts.modes[i]&dagmpi.Write != 0 {
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

func sameBits(a, b []float64) bool {
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

type randomCase struct {
	ranks, workers, ndata, ntasks int
	tagBound                      int
	delay                         time.Duration
	maxBytes                      int64
	maxPending                    int
	prune                         bool
}

func (c randomCase) String() string {
	return fmt.Sprintf("r%d_w%d_d%d_t%d_tag%d_delay%v_bytes%d_pend%d_prune%v",
		c.ranks, c.workers, c.ndata, c.ntasks, c.tagBound, c.delay, c.maxBytes, c.maxPending, c.prune)
}

func runRandom(t *testing.T, c randomCase, seed int64) {
	s := randomSpec(seed, c.ranks, c.ndata, c.ntasks)
	want := s.sequential()
	opts := []dagmpi.Option{dagmpi.WithWorkers(c.workers), dagmpi.WithWatchdog(20 * time.Second)}
	if c.maxBytes > 0 {
		opts = append(opts, dagmpi.WithMaxBytesInFlight(c.maxBytes))
	}
	if c.maxPending > 0 {
		opts = append(opts, dagmpi.WithMaxPending(c.maxPending))
	}
	if c.prune {
		opts = append(opts, dagmpi.WithPruned())
	}
	errs := spmd(t, inproc.Config{Ranks: c.ranks, Seed: seed, TagBound: c.tagBound, MaxDelay: c.delay}, opts,
		func(rt *dagmpi.Runtime) error {
			got, err := s.run(rt, c.prune)
			if err != nil {
				return err
			}
			for d := range got {
				if d%rt.Size() != rt.Rank() {
					if got[d] != nil {
						return fmt.Errorf("Fetch gave data %d to rank %d, not its root", d, rt.Rank())
					}
					continue
				}
				if !sameBits(got[d], want[d]) {
					return fmt.Errorf("seed %d: data %d: got %v, want %v", seed, d, got[d], want[d])
				}
			}
			return nil
		})
	noErrors(t, errs)
}

// TestRandomGraphs compares random graphs with their sequential execution,
// bit for bit, over rank counts, worker counts, tag bounds, delays and
// flow-control bounds, with full and pruned submission.
func TestRandomGraphs(t *testing.T) {
	checkNoLeak(t)
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	var cases []randomCase
	for ranks := 1; ranks <= 4; ranks++ {
		for _, prune := range []bool{false, true} {
			cases = append(cases,
				randomCase{ranks: ranks, workers: 2, ndata: 6, ntasks: 120, prune: prune},
				randomCase{ranks: ranks, workers: 3, ndata: 10, ntasks: 300, tagBound: 64, delay: 300 * time.Microsecond, prune: prune},
				randomCase{ranks: ranks, workers: 1, ndata: 4, ntasks: 200, tagBound: 2, maxBytes: 8, maxPending: 3, delay: 100 * time.Microsecond, prune: prune},
			)
		}
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			for seed := int64(1); seed <= int64(seeds); seed++ {
				runRandom(t, c, seed)
				if t.Failed() {
					return
				}
			}
		})
	}
}
