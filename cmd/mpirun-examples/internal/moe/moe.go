// Package moe is the mixture-of-experts layer of cmd/mpirun-examples/moe,
// as dagmpi tasks: E experts (two-layer MLPs, y = W2 relu(W1 x + b1) + b2)
// spread over the ranks, a seeded router that sends each token to k distinct
// experts drawn from a Zipf popularity (expert e has weight 1/(e+1)^s), and
// the token movement to the experts and back as two alltoallv exchanges of
// per (source rank, destination rank) chunk handles (stfcoll.Exchange).
//
// One step:
//  1. route (a task per rank): the rank's tokens (generated from the seed, as
//     if an earlier layer produced them) are routed; the task writes the
//     rank's token count per expert.
//  2. step boundary: every rank fetches every rank's counts (FetchAll), so
//     all ranks agree on the matrix counts[src][expert].
//  3. plan (local, identical everywhere): the chunks of work. Static: one
//     chunk per expert on rank e mod P. Dynamic: the experts, most loaded
//     first, fill the ranks up to the mean load ceil(N/P) (N the step's
//     total): an expert goes whole to its home rank (e mod P) when it fits
//     there, otherwise to the least loaded rank, cut into a chunk where that
//     rank is full, the rest going on to the next least loaded rank. So hot
//     experts are split over several ranks and every rank gets the mean
//     load, to a token. A chunk away from its expert's home reads the
//     expert's weights there, which the runtime moves (weight replication).
//  4. dispatch: each rank packs its rows for every destination; one expert
//     task per chunk on its rank; each rank packs the results per source;
//     combine: each rank sums, per token, its k expert outputs times the
//     router's gates (in slot order).
//
// Each row's result depends only on the row, the expert and the slot order,
// not on the chunk it was computed in, so the two placements give the same
// outputs bit for bit (the tests check this at 1-4 ranks, and against a
// serial computation).
package moe

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/mlp"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/stfcoll"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/placement"
)

// Config describes the layer and the run; every rank uses the same one.
type Config struct {
	Experts int     // E
	Dim     int     // token width
	Hidden  int     // expert hidden width
	Tokens  int     // tokens per rank per step
	TopK    int     // experts per token
	Steps   int     // steps
	Zipf    float64 // popularity exponent (0: uniform)
	Seed    uint64
	Dynamic bool // dynamic placement instead of static
}

// Default is the example program's configuration.
var Default = Config{Experts: 8, Dim: 64, Hidden: 256, Tokens: 2048, TopK: 2, Steps: 6, Zipf: 1.2, Seed: 1}

// Check reports a malformed Config.
func (c Config) Check() error {
	switch {
	case c.Experts < 1 || c.Dim < 1 || c.Hidden < 1 || c.Tokens < 1 || c.Steps < 1:
		return fmt.Errorf("moe: experts %d, dim %d, hidden %d, tokens %d and steps %d must be positive", c.Experts, c.Dim, c.Hidden, c.Tokens, c.Steps)
	case c.TopK < 1 || c.TopK > c.Experts:
		return fmt.Errorf("moe: topk %d outside [1, experts %d]", c.TopK, c.Experts)
	case c.Zipf < 0 || math.IsNaN(c.Zipf):
		return fmt.Errorf("moe: zipf exponent %g must be >= 0", c.Zipf)
	}
	return nil
}

// Placement names the policy.
func (c Config) Placement() string {
	if c.Dynamic {
		return "dynamic"
	}
	return "static"
}

func (c Config) weightLen() int { return c.Dim*c.Hidden + c.Hidden + c.Hidden*c.Dim + c.Dim }

// ExpertWeights returns expert e's parameters: W1 (Dim x Hidden), b1, W2
// (Hidden x Dim), b2, in the layout of mlp.Forward.
func ExpertWeights(c Config, e int) []float64 {
	rng := rand.New(rand.NewPCG(c.Seed, 0xe000+uint64(e)))
	w := make([]float64, c.weightLen())
	for i := range w {
		w[i] = 0.1 * rng.NormFloat64()
	}
	return w
}

// Routes are a rank's tokens and routing for one step.
type Routes struct {
	X      []float64 // Tokens x Dim inputs
	Expert []int     // Tokens x TopK expert ids, distinct per token
	Gate   []float64 // Tokens x TopK gate weights, summing to 1 per token
}

// Route returns rank r's tokens and routing at step s. Expert e is drawn
// with probability proportional to 1/(e+1)^Zipf, without replacement.
func Route(c Config, step, r int) Routes {
	rng := rand.New(rand.NewPCG(c.Seed, uint64(step)<<20|uint64(r)<<4|1))
	rt := Routes{X: make([]float64, c.Tokens*c.Dim), Expert: make([]int, c.Tokens*c.TopK), Gate: make([]float64, c.Tokens*c.TopK)}
	for i := range rt.X {
		rt.X[i] = rng.NormFloat64()
	}
	pop := make([]float64, c.Experts)
	for e := range pop {
		pop[e] = math.Pow(float64(e+1), -c.Zipf)
	}
	w := make([]float64, c.Experts)
	for t := range c.Tokens {
		copy(w, pop)
		var gs float64
		for j := range c.TopK {
			var tot float64
			for _, v := range w {
				tot += v
			}
			u := rng.Float64() * tot
			e := 0
			for ; e < c.Experts-1; e++ {
				if u < w[e] && w[e] > 0 {
					break
				}
				u -= w[e]
			}
			for w[e] == 0 { // rounding at the end: take the last expert left
				e--
			}
			w[e] = 0
			g := 0.5 + rng.Float64()
			rt.Expert[t*c.TopK+j], rt.Gate[t*c.TopK+j] = e, g
			gs += g
		}
		for j := range c.TopK {
			rt.Gate[t*c.TopK+j] /= gs
		}
	}
	return rt
}

// Reference computes rank r's outputs at step s serially, one token at a
// time.
func Reference(c Config, step, r int) []float64 {
	rt := Route(c, step, r)
	ws := make([][]float64, c.Experts)
	for e := range ws {
		ws[e] = ExpertWeights(c, e)
	}
	out := make([]float64, c.Tokens*c.Dim)
	h := make([]float64, c.Hidden)
	y := make([]float64, c.Dim)
	for t := range c.Tokens {
		o := out[t*c.Dim : (t+1)*c.Dim]
		for j := range c.TopK {
			expert(c, ws[rt.Expert[t*c.TopK+j]], rt.X[t*c.Dim:(t+1)*c.Dim], 1, h, y)
			g := rt.Gate[t*c.TopK+j]
			for i, v := range y {
				o[i] += g * v
			}
		}
	}
	return out
}

// expert runs the expert with weights w on n rows of x into y, with h as
// scratch (n x Hidden).
func expert(c Config, w, x []float64, n int, h, y []float64) {
	mlp.Forward(x, n, c.Dim, w[:c.Dim*c.Hidden+c.Hidden], c.Hidden, h, true)
	mlp.Forward(h, n, c.Hidden, w[c.Dim*c.Hidden+c.Hidden:], c.Dim, y, false)
}

// Chunk is a piece of one expert's work for a step: the tokens at positions
// [A, B) of the expert's tokens (ordered by source rank, then token), on rank
// Rank.
type Chunk struct{ Expert, Rank, A, B int }

// Plan returns the chunks of a step from counts[src][expert] (the same on
// every rank), ordered by rank then creation: static placement keeps expert
// e whole on rank e mod p (placement.Static); dynamic placement fills the
// ranks to the mean load and cuts the hot experts (placement.Balance).
func Plan(counts [][]int, p int, dynamic bool) []Chunk {
	n := make([]int, len(counts[0]))
	for _, row := range counts {
		for x, v := range row {
			n[x] += v
		}
	}
	home := func(x int) int { return x % p }
	place := placement.Static
	if dynamic {
		place = placement.Balance
	}
	pc, err := place(n, p, home)
	if err != nil {
		panic(err) // counts are non-negative and homes are ranks
	}
	ch := make([]Chunk, len(pc))
	for k, c := range pc {
		ch[k] = Chunk{Expert: c.Item, Rank: c.Rank, A: c.A, B: c.B}
	}
	return ch
}

// piece is the part of a chunk that comes from one source rank: n rows
// starting at the source's local index lo in its list for the expert, and
// at row off of the (source, chunk rank) exchange buffer.
type piece struct{ lo, n, off int }

// layout computes, for every chunk and source, its piece, and the exchange
// counts[src][dst] in rows.
func layout(counts [][]int, ch []Chunk, p int) ([][]piece, [][]int) {
	pc := make([][]piece, len(ch))
	xc := make([][]int, p)
	for s := range xc {
		xc[s] = make([]int, p)
	}
	for i, c := range ch {
		pc[i] = make([]piece, p)
		base := 0 // position of source s's first token in the expert's order
		for s := range p {
			n := counts[s][c.Expert]
			a, b := max(c.A, base), min(c.B, base+n)
			if b > a {
				pc[i][s] = piece{lo: a - base, n: b - a, off: xc[s][c.Rank]}
				xc[s][c.Rank] += b - a
			}
			base += n
		}
	}
	return pc, xc
}

// Result is what Run measured and computed.
type Result struct {
	StepSeconds []float64   // wall time of each step on this rank, boundary to boundary
	Digest      [][]float64 // Digest[r][s]: a weighted sum of rank r's outputs at step s
	Last        [][]float64 // every rank's outputs at the last step
	Chunks      []int       // chunks planned per step
	// TokenImbalance is, per step, the most tokens a rank's experts
	// processed over the mean: the imbalance the plan itself leaves,
	// whatever the machine's load.
	TokenImbalance []float64
}

// TokenImbalance returns the largest rank's token count over the mean for
// the chunks of a plan over p ranks.
func TokenImbalance(ch []Chunk, p int) float64 {
	load := make([]int, p)
	total := 0
	for _, c := range ch {
		load[c.Rank] += c.B - c.A
		total += c.B - c.A
	}
	if total == 0 {
		return 1
	}
	return float64(slices.Max(load)) * float64(p) / float64(total)
}

// Names of the tasks; ExpertName is the compute.
const (
	RouteName   = "route"
	PackName    = "dispatch"
	ExpertName  = "expert"
	ReturnName  = "return"
	CombineName = "combine"
)

// Run runs the layer for c.Steps steps over rt. It is collective.
func Run(rt *dagmpi.Runtime, c Config) (Result, error) {
	if err := c.Check(); err != nil {
		return Result{}, err
	}
	p, me := rt.Size(), rt.Rank()
	var res Result
	newData := func(n, home int, v []float64) (*dagmpi.Data[float64], error) {
		if home != me {
			v = nil
		}
		return dagmpi.NewData(rt, n, home, v)
	}
	weights := make([]*dagmpi.Data[float64], c.Experts)
	for e := range weights {
		var w []float64
		if e%p == me {
			w = ExpertWeights(c, e)
		}
		d, err := newData(c.weightLen(), e%p, w)
		if err != nil {
			return res, err
		}
		weights[e] = d
	}
	cnt := make([]*dagmpi.Data[int64], p)
	out := make([]*dagmpi.Data[float64], p)
	dig := make([]*dagmpi.Data[float64], p)
	routes := make([]Routes, p) // routes[me] only is used, by this rank's tasks
	for r := range p {
		var err error
		if cnt[r], err = dagmpi.NewData[int64](rt, c.Experts, r, nil); err != nil {
			return res, err
		}
		if out[r], err = newData(c.Tokens*c.Dim, r, nil); err != nil {
			return res, err
		}
		if dig[r], err = newData(c.Steps, r, nil); err != nil {
			return res, err
		}
	}
	if err := rt.Wait(); err != nil {
		return res, err
	}
	t0 := time.Now()
	for step := range c.Steps {
		for r := range p {
			if err := rt.Submit(func(t *dagmpi.Task) error {
				routes[r] = Route(c, step, r)
				n := cnt[r].Buf(t)
				clear(n)
				for _, e := range routes[r].Expert {
					n[e]++
				}
				return nil
			}, cnt[r].Write(), dagmpi.Name(RouteName)); err != nil {
				return res, err
			}
		}
		// The step boundary: every rank learns every rank's counts.
		counts := make([][]int, p)
		for r := range p {
			v, err := cnt[r].FetchAll()
			if err != nil {
				return res, err
			}
			counts[r] = make([]int, c.Experts)
			for e, x := range v {
				counts[r][e] = int(x)
			}
		}
		chunks := Plan(counts, p, c.Dynamic)
		res.Chunks = append(res.Chunks, len(chunks))
		res.TokenImbalance = append(res.TokenImbalance, TokenImbalance(chunks, p))
		pieces, xc := layout(counts, chunks, p)
		there, err := stfcoll.NewExchange(rt, xc, c.Dim)
		if err != nil {
			return res, err
		}
		back := make([][]int, p)
		for d := range p {
			back[d] = make([]int, p)
			for s := range p {
				back[d][s] = xc[s][d]
			}
		}
		home, err := stfcoll.NewExchange(rt, back, c.Dim)
		if err != nil {
			return res, err
		}
		// Where each (token, slot) of this rank went: rank and row of the
		// exchange buffer. Written by this rank's dispatch, read by its
		// combine, which the chunk handles order after it.
		where := make([]int32, 2*c.Tokens*c.TopK)
		for s := range p {
			if err := rt.Submit(func(t *dagmpi.Task) error {
				ro := routes[s]
				// The local index of each (token, slot) in its expert's list.
				lists := make([][]int, c.Experts)
				for i, e := range ro.Expert {
					lists[e] = append(lists[e], i)
				}
				for ci, ch := range chunks {
					pc := pieces[ci][s]
					if pc.n == 0 {
						continue
					}
					buf := there.Chunk[s][ch.Rank].Buf(t)
					for k := range pc.n {
						i := lists[ch.Expert][pc.lo+k]
						row := pc.off + k
						tok := i / c.TopK
						copy(buf[row*c.Dim:(row+1)*c.Dim], ro.X[tok*c.Dim:(tok+1)*c.Dim])
						where[2*i], where[2*i+1] = int32(ch.Rank), int32(row)
					}
				}
				return nil
			}, append(there.SendArgs(s), cnt[s].Read(), dagmpi.Name(PackName), dagmpi.OnRank(s))...); err != nil {
				return res, err
			}
		}
		results := make([]*dagmpi.Data[float64], len(chunks))
		for ci, ch := range chunks {
			n := ch.B - ch.A
			y, err := newData(n*c.Dim, ch.Rank, nil)
			if err != nil {
				return res, err
			}
			results[ci] = y
			args := []dagmpi.Arg{y.Write(), weights[ch.Expert].Read(), dagmpi.Name(ExpertName), dagmpi.OnRank(ch.Rank)}
			for s := range p {
				if pieces[ci][s].n > 0 {
					args = append(args, there.Chunk[s][ch.Rank].Read())
				}
			}
			if err := rt.Submit(func(t *dagmpi.Task) error {
				x := make([]float64, n*c.Dim)
				row := 0
				for s := range p {
					pc := pieces[ci][s]
					if pc.n == 0 {
						continue
					}
					copy(x[row*c.Dim:], there.Chunk[s][ch.Rank].Buf(t)[pc.off*c.Dim:(pc.off+pc.n)*c.Dim])
					row += pc.n
				}
				expert(c, weights[ch.Expert].Buf(t), x, n, make([]float64, n*c.Hidden), y.Buf(t))
				return nil
			}, args...); err != nil {
				return res, err
			}
		}
		for d := range p {
			args := append(home.SendArgs(d), dagmpi.Name(ReturnName), dagmpi.OnRank(d))
			mine := []int{}
			for ci, ch := range chunks {
				if ch.Rank == d {
					args = append(args, results[ci].Read())
					mine = append(mine, ci)
				}
			}
			if len(mine) == 0 {
				continue
			}
			if err := rt.Submit(func(t *dagmpi.Task) error {
				for _, ci := range mine {
					y := results[ci].Buf(t)
					row := 0
					for s := range p {
						pc := pieces[ci][s]
						if pc.n == 0 {
							continue
						}
						copy(home.Chunk[d][s].Buf(t)[pc.off*c.Dim:], y[row*c.Dim:(row+pc.n)*c.Dim])
						row += pc.n
					}
				}
				return nil
			}, args...); err != nil {
				return res, err
			}
		}
		for s := range p {
			args := append(home.RecvArgs(s), out[s].Write(), dig[s].ReadWrite(), dagmpi.Name(CombineName), dagmpi.OnRank(s))
			if err := rt.Submit(func(t *dagmpi.Task) error {
				ro := routes[s]
				o := out[s].Buf(t)
				clear(o)
				for tok := range c.Tokens {
					ot := o[tok*c.Dim : (tok+1)*c.Dim]
					for j := range c.TopK {
						i := tok*c.TopK + j
						src := home.Chunk[int(where[2*i])][s].Buf(t)
						row := int(where[2*i+1])
						g := ro.Gate[i]
						for k, v := range src[row*c.Dim : (row+1)*c.Dim] {
							ot[k] += g * v
						}
					}
				}
				var h float64
				for i, v := range o {
					h += v * float64(1+i%7)
				}
				dig[s].Buf(t)[step] = h
				return nil
			}, args...); err != nil {
				return res, err
			}
		}
		if step == c.Steps-1 {
			for r := range p {
				v, err := out[r].FetchAll()
				if err != nil {
					return res, err
				}
				res.Last = append(res.Last, v)
			}
		}
		// Each step ends with a Wait, so that its time is its own.
		if err := rt.Wait(); err != nil {
			return res, err
		}
		now := time.Now()
		res.StepSeconds = append(res.StepSeconds, now.Sub(t0).Seconds())
		t0 = now
	}
	for r := range p {
		v, err := dig[r].FetchAll()
		if err != nil {
			return res, err
		}
		res.Digest = append(res.Digest, v)
	}
	return res, rt.Wait()
}
