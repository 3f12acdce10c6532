package moe_test

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/moe"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/internal/mpitest"
)

func TestMain(m *testing.M) { mpitest.Main(m) }

var small = moe.Config{Experts: 6, Dim: 8, Hidden: 16, Tokens: 97, TopK: 2, Steps: 3, Zipf: 1.2, Seed: 5}

// TestPlan checks that a dynamic plan covers every expert's tokens exactly
// once and gives every rank at most the mean load rounded up, and that a
// static plan puts expert e on rank e mod P.
func TestPlan(t *testing.T) {
	counts := [][]int{{500, 100, 30, 0, 7}, {450, 80, 20, 1, 0}, {600, 90, 10, 0, 3}}
	for _, dyn := range []bool{false, true} {
		for p := 1; p <= 4; p++ {
			c := counts[:min(p, 3)]
			ch := moe.Plan(c, p, dyn)
			covered := map[int]int{}
			load := make([]int, p)
			total := 0
			for _, k := range ch {
				covered[k.Expert] += k.B - k.A
				load[k.Rank] += k.B - k.A
				total += k.B - k.A
				if !dyn {
					assert.Equal(t, k.Expert%p, k.Rank, "static chunk %+v", k)
				}
			}
			for e := range 5 {
				n := 0
				for _, row := range c {
					n += row[e]
				}
				assert.Equal(t, n, covered[e], "expert %d, p %d, dynamic %v", e, p, dyn)
			}
			if dyn {
				for r, l := range load {
					assert.LessOrEqual(t, l, (total+p-1)/p, "rank %d load %d of %v", r, l, load)
				}
			}
		}
	}
}

// TestRouteZipf checks the router: distinct experts per token, gates summing
// to one, and expert 0 the most popular under skew.
func TestRouteZipf(t *testing.T) {
	c := small
	c.Tokens = 4000
	ro := moe.Route(c, 0, 0)
	n := make([]int, c.Experts)
	for tok := range c.Tokens {
		var g float64
		seen := map[int]bool{}
		for j := range c.TopK {
			e := ro.Expert[tok*c.TopK+j]
			assert.False(t, seen[e], "token %d routed twice to expert %d", tok, e)
			seen[e] = true
			n[e]++
			g += ro.Gate[tok*c.TopK+j]
		}
		assert.InDelta(t, 1, g, 1e-12)
	}
	assert.Greater(t, n[0], 2*n[c.Experts-1], "counts %v", n)
}

// TestPlacementsAgree runs both placements on the job's ranks (1-4 under
// mpitest): their outputs must be bit-identical at every step, and match the
// serial reference (one token at a time) to within rounding.
func TestPlacementsAgree(t *testing.T) {
	comm := mpitest.World()
	var got [2]moe.Result
	for i, dyn := range []bool{false, true} {
		c := small
		c.Dynamic = dyn
		rt, err := p2p.NewRuntime(comm)
		if !assert.NoError(t, err) {
			return
		}
		got[i], err = moe.Run(rt, c)
		assert.NoError(t, err)
		assert.NoError(t, rt.Close())
	}
	p := comm.Size()
	if !assert.Len(t, got[0].Last, p) || !assert.Len(t, got[1].Last, p) {
		return
	}
	assert.Equal(t, got[0].Digest, got[1].Digest, "per-step digests of the outputs")
	for r := range p {
		assert.Equal(t, got[0].Last[r], got[1].Last[r], "rank %d outputs: static and dynamic differ", r)
		want := moe.Reference(small, small.Steps-1, r)
		worst := 0.0
		for i, v := range want {
			worst = max(worst, math.Abs(got[1].Last[r][i]-v))
		}
		// Row-at-a-time and blocked matrix products add in the same order
		// here; allow rounding anyway (outputs are O(1)).
		assert.Less(t, worst, 1e-12, "rank %d: largest difference from the serial reference", r)
	}
	t.Logf("%d ranks: chunks per step static %v dynamic %v", p, got[0].Chunks, got[1].Chunks)
}

// TestInProcess runs both placements on 3 goroutine ranks (package inproc,
// which tests the task graph fast and under -race) and compares them with
// the serial reference. It runs once, in the 1-rank job.
func TestInProcess(t *testing.T) {
	if mpitest.World().Size() != 1 {
		t.Skip("runs in the 1-rank job only")
	}
	const p = 3
	for _, dyn := range []bool{false, true} {
		c := small
		c.Dynamic = dyn
		w, err := inproc.NewWorld(inproc.Config{Ranks: p})
		if !assert.NoError(t, err) {
			return
		}
		res := make([]moe.Result, p)
		errs := make([]error, p)
		var wg sync.WaitGroup
		for r := range p {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rt, err := dagmpi.New(w.Endpoint(r), dagmpi.WithWorkers(2))
				if err != nil {
					errs[r] = err
					return
				}
				res[r], errs[r] = moe.Run(rt, c)
				if err := rt.Close(); errs[r] == nil {
					errs[r] = err
				}
			}()
		}
		wg.Wait()
		for r := range p {
			if !assert.NoError(t, errs[r], "rank %d", r) {
				return
			}
			assert.Equal(t, moe.Reference(c, c.Steps-1, r), res[0].Last[r], "dynamic %v: rank %d outputs", dyn, r)
		}
	}
}
