// Command train trains a small multilayer perceptron data-parallel on the
// ranks of an MPI job, with the dagmpi runtime (model and task graph in
// package internal/mlp). Each rank takes a shard of every global batch; the
// gradients of each layer are summed over the ranks by a tree of tasks
// submitted as soon as that layer's gradient is, so the reduction overlaps
// the back propagation through the earlier layers.
//
//	go build -o train ./cmd/mpirun-examples/train
//	mpirun -np 2 ./train [-epochs 5] [-batch 256] [-hidden 128] [-lr 0.05] [-seed 1] [-json] [-trace out]
//
// Rank 0 prints the mean loss of each epoch, the final accuracy on the data
// set, the time per epoch and the fraction of the gradient communication
// hidden behind computation (measured from the task and transfer events of
// all ranks: the time a transfer was in flight while its rank ran a compute
// task, over the time transfers were in flight). The program exits non-zero
// if the loss did not fall or the accuracy is at chance level.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/exrun"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/mlp"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/overlap"
	"github.com/spmd-go/spmd/mpi"
)

type report struct {
	Ranks          int       `json:"ranks"`
	Workers        int       `json:"workers"`
	Epochs         int       `json:"epochs"`
	Batch          int       `json:"batch"`
	Hidden         int       `json:"hidden"`
	Depth          int       `json:"depth"`
	Samples        int       `json:"samples"`
	LR             float64   `json:"lr"`
	Seed           uint64    `json:"seed"`
	Loss           []float64 `json:"loss"`
	Accuracy       float64   `json:"accuracy"`
	EpochSeconds   []float64 `json:"epoch_seconds"`
	MedianEpochS   float64   `json:"median_epoch_seconds"`
	CommSeconds    float64   `json:"comm_seconds"`
	HiddenSeconds  float64   `json:"hidden_seconds"`
	HiddenFraction float64   `json:"hidden_fraction"`
}

func main() {
	c := mlp.Default
	flag.IntVar(&c.Epochs, "epochs", c.Epochs, "passes over the data set")
	flag.IntVar(&c.Batch, "batch", c.Batch, "global batch size (split over the ranks)")
	flag.IntVar(&c.Hidden, "hidden", c.Hidden, "units per hidden layer")
	flag.IntVar(&c.Depth, "depth", c.Depth, "hidden layers")
	flag.IntVar(&c.Samples, "samples", c.Samples, "samples in the synthetic data set")
	flag.Float64Var(&c.LR, "lr", c.LR, "SGD step size")
	flag.Uint64Var(&c.Seed, "seed", c.Seed, "seed of the data, the weights and the batch order")
	jf := exrun.Register(flag.CommandLine)
	flag.Parse()
	if err := run(c, jf); err != nil {
		fmt.Fprintln(os.Stderr, "train:", err)
		if mpi.Initialized() {
			mpi.Abort(mpi.World(), 1, "train: "+err.Error())
		}
		os.Exit(1)
	}
}

func run(c mlp.Config, jf *exrun.Flags) error {
	asJSON := jf.JSON
	if err := c.Check(); err != nil {
		return err
	}
	if err := mpi.Init(); err != nil {
		return err
	}
	defer mpi.Finalize()
	world := mpi.World()
	me := world.Rank()
	rec := &overlap.Recorder{Compute: mlp.ComputeNames}
	rt, trace, err := jf.NewRuntime(world, rec)
	if err != nil {
		return err
	}
	d := mlp.MakeData(c)
	rep := report{Ranks: world.Size(), Workers: rt.Workers(), Epochs: c.Epochs, Batch: c.Batch, Hidden: c.Hidden,
		Depth: c.Depth, Samples: c.Samples, LR: c.LR, Seed: c.Seed}
	if me == 0 && !asJSON {
		fmt.Printf("train: %d ranks x %d workers, MLP %v, %d samples, batch %d, lr %g\n", rep.Ranks, rep.Workers, c.Sizes(), c.Samples, c.Batch, c.LR)
	}
	start := time.Now()
	res, err := mlp.Train(rt, c, d, func(e int, loss float64) {
		now := time.Now()
		rep.EpochSeconds = append(rep.EpochSeconds, now.Sub(start).Seconds())
		start = now
		if me == 0 && !asJSON {
			fmt.Printf("epoch %3d  loss %.6f  %.3fs\n", e+1, loss, rep.EpochSeconds[e])
		}
	})
	if err != nil {
		return err
	}
	if err := rt.Close(); err != nil {
		return err
	}
	rep.Loss, rep.Accuracy = res.EpochLoss, res.Accuracy
	s := slices.Clone(rep.EpochSeconds)
	slices.Sort(s)
	rep.MedianEpochS = s[len(s)/2]

	if err := trace.Write(); err != nil {
		return err
	}
	all, err := gatherEvents(world, rec.Events())
	if err != nil {
		return err
	}
	if me == 0 {
		rep.CommSeconds, rep.HiddenSeconds = overlap.Hidden(all)
		if rep.CommSeconds > 0 {
			rep.HiddenFraction = rep.HiddenSeconds / rep.CommSeconds
		}
		if asJSON {
			b, _ := json.Marshal(rep)
			fmt.Println(string(b))
		} else {
			fmt.Printf("accuracy %.4f, median epoch %.3fs, gradient communication %.3fs, hidden behind compute %.3fs (%.0f%%)\n",
				rep.Accuracy, rep.MedianEpochS, rep.CommSeconds, rep.HiddenSeconds, 100*rep.HiddenFraction)
		}
	}
	// The program checks its own result (the same decision on every rank).
	if last := res.EpochLoss[len(res.EpochLoss)-1]; !(last < res.EpochLoss[0]) && c.Epochs > 1 {
		return fmt.Errorf("the loss did not fall: %v", res.EpochLoss)
	}
	if res.Accuracy <= 1.5/float64(c.Classes) {
		return fmt.Errorf("accuracy %.4f is near chance (%d classes)", res.Accuracy, c.Classes)
	}
	return nil
}

// gatherEvents collects every rank's events on rank 0.
func gatherEvents(world *mpi.Comm, ev []overlap.Event) ([]overlap.Event, error) {
	flat := overlap.Flatten(ev)
	p := world.Size()
	counts := make([]int64, p)
	if err := mpi.Allgather(world, []int64{int64(len(flat))}, counts); err != nil {
		return nil, err
	}
	cnt, displs := make([]int, p), make([]int, p)
	total := 0
	for r, n := range counts {
		cnt[r], displs[r] = int(n), total
		total += int(n)
	}
	var recv []float64
	if world.Rank() == 0 {
		recv = make([]float64, total)
	}
	if err := mpi.Gatherv(world, flat, recv, cnt, displs, 0); err != nil {
		return nil, err
	}
	return overlap.Unflatten(recv), nil
}
