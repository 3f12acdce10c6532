package mlp_test

import (
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/mlp"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/internal/mpitest"
)

func TestMain(m *testing.M) { mpitest.Main(m) }

// small is a configuration that trains in well under a second.
var small = mlp.Config{Inputs: 16, Hidden: 32, Depth: 2, Classes: 4, Samples: 1024, Batch: 64, Epochs: 3, LR: 0.1, Seed: 7}

// tol bounds the relative difference between a data-parallel and the serial
// run. The only difference is the order in which the gradient of a batch is
// summed (per shard, then over a tree of ranks, instead of over the batch at
// once): a few ulps per step, which 48 SGD steps amplify little. Measured
// differences are around 1e-15; 1e-9 leaves room and still catches any
// missing, doubled or misplaced shard (those change the loss at 1e-3).
const tol = 1e-9

func relDiff(a, b float64) float64 { return math.Abs(a-b) / max(math.Abs(b), 1e-300) }

// TestSerialLearns checks that the reference itself trains: the loss falls
// and the accuracy is well above chance.
func TestSerialLearns(t *testing.T) {
	res, err := mlp.TrainSerial(small, mlp.MakeData(small))
	if !assert.NoError(t, err) {
		return
	}
	assert.Less(t, res.EpochLoss[len(res.EpochLoss)-1], 0.7*res.EpochLoss[0], "loss per epoch %v", res.EpochLoss)
	assert.Greater(t, res.Accuracy, 0.8)
}

// TestGradientNumeric checks the backward pass against central differences
// on a tiny model.
func TestGradientNumeric(t *testing.T) {
	c := mlp.Config{Inputs: 3, Hidden: 5, Depth: 1, Classes: 3, Samples: 4, Batch: 4, Epochs: 1, LR: 1, Seed: 3}
	d := mlp.MakeData(c)
	params := mlp.InitParams(c)
	s := c.Sizes()
	loss := func() float64 {
		h := make([]float64, 4*s[1])
		z := make([]float64, 4*s[2])
		mlp.Forward(d.X, 4, s[0], params[0], s[1], h, true)
		mlp.Forward(h, 4, s[1], params[1], s[2], z, false)
		return mlp.Loss(z, 4, 3, d.Y, 1, make([]float64, 12)) / 4
	}
	h := make([]float64, 4*s[1])
	z := make([]float64, 4*s[2])
	mlp.Forward(d.X, 4, s[0], params[0], s[1], h, true)
	mlp.Forward(h, 4, s[1], params[1], s[2], z, false)
	d1 := make([]float64, 12)
	mlp.Loss(z, 4, 3, d.Y, 0.25, d1)
	g := [][]float64{make([]float64, len(params[0])), make([]float64, len(params[1]))}
	mlp.Gradient(h, 4, s[1], d1, s[2], g[1])
	d0 := make([]float64, 4*s[1])
	mlp.Backward(d1, 4, s[2], params[1], s[1], h, d0)
	mlp.Gradient(d.X, 4, s[0], d0, s[1], g[0])
	const eps = 1e-6
	for l := range params {
		for i := range params[l] {
			v := params[l][i]
			params[l][i] = v + eps
			up := loss()
			params[l][i] = v - eps
			down := loss()
			params[l][i] = v
			assert.InDelta(t, (up-down)/(2*eps), g[l][i], 1e-6, "layer %d parameter %d", l, i)
		}
	}
}

// TestTrainMatchesSerial trains data-parallel on the job's ranks (1-4 under
// mpitest) and compares the loss of every epoch, the accuracy and the final
// parameters with the serial run computed in this process.
func TestTrainMatchesSerial(t *testing.T) {
	d := mlp.MakeData(small)
	want, err := mlp.TrainSerial(small, d)
	if !assert.NoError(t, err) {
		return
	}
	for _, comm := range mpitest.Comms(t)[:2] {
		rt, err := p2p.NewRuntime(comm)
		if !assert.NoError(t, err) {
			return
		}
		got, err := mlp.Train(rt, small, d, nil)
		assert.NoError(t, err)
		assert.NoError(t, rt.Close())
		if !assert.Len(t, got.EpochLoss, small.Epochs) {
			continue
		}
		for e := range got.EpochLoss {
			assert.Less(t, relDiff(got.EpochLoss[e], want.EpochLoss[e]), tol, "epoch %d at %d ranks: loss %v, serial %v", e, comm.Size(), got.EpochLoss[e], want.EpochLoss[e])
		}
		worst := 0.0
		for l := range want.Params {
			for i, v := range want.Params[l] {
				worst = max(worst, math.Abs(got.Params[l][i]-v))
			}
		}
		assert.Less(t, worst, tol, "largest parameter difference at %d ranks", comm.Size())
		assert.InDelta(t, want.Accuracy, got.Accuracy, 1.0/float64(small.Samples), "accuracy")
		t.Logf("%d ranks: losses %v (serial %v), largest parameter difference %.3g", comm.Size(), got.EpochLoss, want.EpochLoss, worst)
	}
}

// TestInProcess trains on 3 goroutine ranks (package inproc, fast and
// checked under -race) and compares with the serial run. It runs once, in
// the 1-rank job.
func TestInProcess(t *testing.T) {
	if mpitest.World().Size() != 1 {
		t.Skip("runs in the 1-rank job only")
	}
	const p = 3
	c := small
	c.Epochs = 2
	d := mlp.MakeData(c)
	want, err := mlp.TrainSerial(c, d)
	if !assert.NoError(t, err) {
		return
	}
	w, err := inproc.NewWorld(inproc.Config{Ranks: p})
	if !assert.NoError(t, err) {
		return
	}
	res := make([]mlp.Result, p)
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
			res[r], errs[r] = mlp.Train(rt, c, d, nil)
			if err := rt.Close(); errs[r] == nil {
				errs[r] = err
			}
		}()
	}
	wg.Wait()
	for r := range p {
		if !assert.NoError(t, errs[r], "rank %d", r) {
			continue
		}
		for e := range want.EpochLoss {
			assert.Less(t, relDiff(res[r].EpochLoss[e], want.EpochLoss[e]), tol, "rank %d epoch %d", r, e)
		}
	}
}
