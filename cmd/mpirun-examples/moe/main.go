// Command moe runs a mixture-of-experts layer on the ranks of an MPI job with
// the dagmpi runtime (package internal/moe): E experts spread over the
// ranks, a seeded router sending each token to its top-k experts under a Zipf
// popularity, tokens moved to their experts and back by alltoallv exchanges
// of task-owned chunks, and a static (expert e on rank e mod P) or dynamic
// (hot experts split into chunks on the least loaded ranks, from the token
// counts gathered at each step boundary) placement.
//
//	go build -o moe ./cmd/mpirun-examples/moe
//	mpirun -np 2 ./moe [-placement static|dynamic] [-zipf 1.2] [-experts 8] [-tokens 2048] [-topk 2] [-steps 6] [-json]
//
// Rank 0 prints the median step time (steps after the first) and the load
// imbalance: the largest rank's busy time (time in task bodies) over the
// mean. Every rank checks its outputs of the last step against a serial
// computation; the program exits non-zero if one differs.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/exrun"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/moe"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/overlap"
	"github.com/spmd-go/spmd/mpi"
)

type report struct {
	Placement   string    `json:"placement"`
	Zipf        float64   `json:"zipf"`
	Ranks       int       `json:"ranks"`
	Workers     int       `json:"workers"`
	Experts     int       `json:"experts"`
	Tokens      int       `json:"tokens"`
	TopK        int       `json:"topk"`
	Dim         int       `json:"dim"`
	Hidden      int       `json:"hidden"`
	Steps       int       `json:"steps"`
	StepSeconds float64   `json:"step_seconds"`
	AllSteps    []float64 `json:"all_step_seconds"`
	Busy        []float64 `json:"busy_seconds"`
	Imbalance   float64   `json:"imbalance"`
	Chunks      []int     `json:"chunks"`
	MaxError    float64   `json:"max_error"`
	// TokenImb is the median over the steps of the largest rank's token
	// count over the mean: the imbalance of the plan itself.
	TokenImb float64 `json:"token_imbalance"`
}

func main() {
	c := moe.Default
	flag.Float64Var(&c.Zipf, "zipf", c.Zipf, "Zipf exponent of the expert popularity (0: uniform)")
	placement := flag.String("placement", "static", "static (expert e on rank e mod P) or dynamic")
	flag.IntVar(&c.Experts, "experts", c.Experts, "experts")
	flag.IntVar(&c.Tokens, "tokens", c.Tokens, "tokens per rank per step")
	flag.IntVar(&c.TopK, "topk", c.TopK, "experts per token")
	flag.IntVar(&c.Steps, "steps", c.Steps, "steps")
	flag.IntVar(&c.Dim, "dim", c.Dim, "token width")
	flag.IntVar(&c.Hidden, "hidden", c.Hidden, "expert hidden width")
	flag.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the tokens, the router and the weights")
	jf := exrun.Register(flag.CommandLine)
	flag.Parse()
	switch *placement {
	case "static":
	case "dynamic":
		c.Dynamic = true
	default:
		fmt.Fprintf(os.Stderr, "moe: -placement %q: want static or dynamic\n", *placement)
		os.Exit(2)
	}
	if err := run(c, jf); err != nil {
		fmt.Fprintln(os.Stderr, "moe:", err)
		if mpi.Initialized() {
			mpi.Abort(mpi.World(), 1, "moe: "+err.Error())
		}
		os.Exit(1)
	}
}

func run(c moe.Config, jf *exrun.Flags) error {
	asJSON := jf.JSON
	if err := c.Check(); err != nil {
		return err
	}
	if err := mpi.Init(); err != nil {
		return err
	}
	defer mpi.Finalize()
	world := mpi.World()
	me, p := world.Rank(), world.Size()
	rec := &overlap.Recorder{}
	rt, trace, err := jf.NewRuntime(world, rec)
	if err != nil {
		return err
	}
	rep := report{Placement: c.Placement(), Zipf: c.Zipf, Ranks: p, Workers: rt.Workers(), Experts: c.Experts, Tokens: c.Tokens,
		TopK: c.TopK, Dim: c.Dim, Hidden: c.Hidden, Steps: c.Steps}
	res, err := moe.Run(rt, c)
	if err != nil {
		return err
	}
	if err := rt.Close(); err != nil {
		return err
	}
	if err := trace.Write(); err != nil {
		return err
	}
	rep.AllSteps, rep.Chunks = res.StepSeconds, res.Chunks
	s := slices.Clone(res.StepSeconds)
	if len(s) > 1 {
		s = s[1:] // the first step also moves the weights' first replicas and warms up
	}
	slices.Sort(s)
	rep.StepSeconds = s[len(s)/2]
	ti := slices.Clone(res.TokenImbalance)
	slices.Sort(ti)
	rep.TokenImb = ti[len(ti)/2]
	// Busy time per rank, and the check against the serial computation.
	ev := rec.Events()
	busy := make([]float64, p)
	if err := mpi.Allgather(world, []float64{overlap.Busy(ev, me)}, busy); err != nil {
		return err
	}
	rep.Busy = busy
	var sum, hi float64
	for _, b := range busy {
		sum += b
		hi = max(hi, b)
	}
	if sum > 0 {
		rep.Imbalance = hi / (sum / float64(p))
	}
	want := moe.Reference(c, c.Steps-1, me)
	var worst float64
	for i, v := range want {
		worst = max(worst, math.Abs(res.Last[me][i]-v))
	}
	all := []float64{0}
	if err := mpi.Allreduce(world, []float64{worst}, all, mpi.Max); err != nil {
		return err
	}
	rep.MaxError = all[0]
	if me == 0 {
		if asJSON {
			b, _ := json.Marshal(rep)
			fmt.Println(string(b))
		} else {
			fmt.Printf("moe: %d ranks x %d workers, %d experts (%dx%dx%d), %d tokens/rank, top-%d, zipf %g, %s placement\n",
				p, rep.Workers, c.Experts, c.Dim, c.Hidden, c.Dim, c.Tokens, c.TopK, c.Zipf, rep.Placement)
			fmt.Printf("step %.4fs (median of steps 2..%d), imbalance %.3f (busy per rank %.3v s; tokens %.3f), chunks per step %v, largest difference from serial %.2g\n",
				rep.StepSeconds, c.Steps, rep.Imbalance, busy, rep.TokenImb, res.Chunks, rep.MaxError)
		}
	}
	if !(rep.MaxError < 1e-10) {
		return fmt.Errorf("outputs differ from the serial computation by %g", rep.MaxError)
	}
	return nil
}
