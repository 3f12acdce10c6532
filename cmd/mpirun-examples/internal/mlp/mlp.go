// Package mlp is the model of the data-parallel training example
// (cmd/mpirun-examples/train): a multilayer perceptron (ReLU hidden layers, a
// softmax cross-entropy output) trained by plain SGD on a synthetic
// classification set, serially (TrainSerial) or data-parallel over a dagmpi
// Runtime (Train).
//
// In Train every rank keeps a replica of the parameters and takes a
// contiguous shard of every global batch. The forward pass, the loss, the
// gradient of each layer and the back-propagated error are tasks on the
// rank's own handles; the gradients of one layer are summed over the ranks
// by a reduction tree of tasks (package stfcoll) submitted right after that
// layer's gradient tasks, and each rank's update task reads the sum (which the
// runtime broadcasts). So the reduction of layer l runs while the ranks still
// back-propagate through layers l-1, ..., 0. Because the loss is the mean over
// the global batch, the summed gradient is the serial gradient up to
// rounding: training on 1, 2 or 4 ranks follows the serial run.
//
// Matrices are row-major float64 slices; a layer's parameters are one slice,
// the weights (in x out) followed by the biases (out).
package mlp

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/stfcoll"
	"github.com/spmd-go/spmd/dagmpi"
)

// Config describes the model, the data set and the training run. Every rank
// uses the same Config.
type Config struct {
	Inputs  int     // features per sample
	Hidden  int     // units per hidden layer
	Depth   int     // hidden layers
	Classes int     // output classes
	Samples int     // samples in the data set
	Batch   int     // global batch size (samples per step, over all ranks)
	Epochs  int     // passes over the data set
	LR      float64 // SGD step size
	Seed    uint64  // seeds the data set, the initial weights and the batch order
}

// Default is the configuration of the example program.
var Default = Config{Inputs: 32, Hidden: 128, Depth: 2, Classes: 8, Samples: 8192, Batch: 256, Epochs: 5, LR: 0.05, Seed: 1}

// Check reports a malformed Config.
func (c Config) Check() error {
	switch {
	case c.Inputs < 1 || c.Hidden < 1 || c.Depth < 0 || c.Classes < 2:
		return fmt.Errorf("mlp: bad model shape: inputs %d, hidden %d, depth %d, classes %d", c.Inputs, c.Hidden, c.Depth, c.Classes)
	case c.Batch < 1 || c.Samples < c.Batch:
		return fmt.Errorf("mlp: batch %d must be in [1, samples %d]", c.Batch, c.Samples)
	case c.Epochs < 1 || c.LR <= 0:
		return fmt.Errorf("mlp: epochs %d and lr %g must be positive", c.Epochs, c.LR)
	}
	return nil
}

// Sizes returns the widths of the layers' inputs and of the output.
func (c Config) Sizes() []int {
	s := []int{c.Inputs}
	for range c.Depth {
		s = append(s, c.Hidden)
	}
	return append(s, c.Classes)
}

// Steps returns the batches per epoch (the remainder of the data set is
// left out of each epoch).
func (c Config) Steps() int { return c.Samples / c.Batch }

// Dataset is a labelled set of samples: X is Samples x Inputs.
type Dataset struct {
	X []float64
	Y []int
}

// MakeData generates the synthetic set: Classes Gaussian clusters with
// random centres, unit noise, the class of sample i drawn uniformly.
func MakeData(c Config) Dataset {
	rng := rand.New(rand.NewPCG(c.Seed, 0xda7a))
	centers := make([]float64, c.Classes*c.Inputs)
	for i := range centers {
		centers[i] = 1.2 * rng.NormFloat64()
	}
	d := Dataset{X: make([]float64, c.Samples*c.Inputs), Y: make([]int, c.Samples)}
	for i := range c.Samples {
		y := rng.IntN(c.Classes)
		d.Y[i] = y
		for j := range c.Inputs {
			d.X[i*c.Inputs+j] = centers[y*c.Inputs+j] + rng.NormFloat64()
		}
	}
	return d
}

// InitParams returns the initial parameters of every layer (He-scaled
// Gaussian weights, zero biases).
func InitParams(c Config) [][]float64 {
	rng := rand.New(rand.NewPCG(c.Seed, 0x3e1))
	s := c.Sizes()
	ps := make([][]float64, len(s)-1)
	for l := range ps {
		in, out := s[l], s[l+1]
		p := make([]float64, in*out+out)
		sd := math.Sqrt(2 / float64(in))
		for i := range in * out {
			p[i] = sd * rng.NormFloat64()
		}
		ps[l] = p
	}
	return ps
}

// Order returns the order of the samples in epoch e (the same on every rank).
func Order(c Config, e int) []int {
	return rand.New(rand.NewPCG(c.Seed, uint64(e)+1)).Perm(c.Samples)
}

// Shard returns the rows [lo, hi) of a global batch of b rows that rank r of
// p takes.
func Shard(b, r, p int) (lo, hi int) { return r * b / p, (r + 1) * b / p }

func mat(rows, cols int, d []float64) blas64.General {
	return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: d}
}

// Forward sets out (rows x nout) to in (rows x nin) times the weights of p
// plus the biases, through a ReLU if relu.
func Forward(in []float64, rows, nin int, p []float64, nout int, out []float64, relu bool) {
	b := p[nin*nout:]
	for i := range rows {
		copy(out[i*nout:(i+1)*nout], b)
	}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, mat(rows, nin, in), mat(nin, nout, p[:nin*nout]), 1, mat(rows, nout, out))
	if relu {
		for i, v := range out[:rows*nout] {
			if v < 0 {
				out[i] = 0
			}
		}
	}
}

// Loss sets delta (rows x classes) to the gradient of the softmax
// cross-entropy of logits against labels y, scaled by scale (1/global batch),
// and returns the unscaled sum of the rows' losses.
func Loss(logits []float64, rows, classes int, y []int, scale float64, delta []float64) float64 {
	var sum float64
	for i := range rows {
		z := logits[i*classes : (i+1)*classes]
		d := delta[i*classes : (i+1)*classes]
		m := z[0]
		for _, v := range z {
			m = max(m, v)
		}
		var s float64
		for j, v := range z {
			d[j] = math.Exp(v - m)
			s += d[j]
		}
		sum += math.Log(s) - (z[y[i]] - m)
		for j := range d {
			d[j] *= scale / s
		}
		d[y[i]] -= scale
	}
	return sum
}

// Gradient sets g (the layout of the parameters) to the gradient of the
// layer with input a (rows x nin) and output error delta (rows x nout).
func Gradient(a []float64, rows, nin int, delta []float64, nout int, g []float64) {
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, mat(rows, nin, a), mat(rows, nout, delta), 0, mat(nin, nout, g[:nin*nout]))
	gb := g[nin*nout:]
	clear(gb)
	for i := range rows {
		for j, v := range delta[i*nout : (i+1)*nout] {
			gb[j] += v
		}
	}
}

// Backward sets dprev (rows x nin) to the error at the input of the layer
// with parameters p: delta times the transposed weights, where the ReLU that
// produced a (the layer's input) let the value through, zero elsewhere.
func Backward(delta []float64, rows, nout int, p []float64, nin int, a, dprev []float64) {
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, mat(rows, nout, delta), mat(nin, nout, p[:nin*nout]), 0, mat(rows, nin, dprev))
	for i, v := range a[:rows*nin] {
		if v <= 0 {
			dprev[i] = 0
		}
	}
}

// SGD applies p -= lr*g.
func SGD(p, g []float64, lr float64) {
	for i, v := range g {
		p[i] -= lr * v
	}
}

// Result is the outcome of a training run.
type Result struct {
	EpochLoss []float64   // mean loss of the batches of each epoch
	Accuracy  float64     // on the whole data set, with the final parameters
	Params    [][]float64 // the final parameters
}

// gather copies the samples idx of d into x (len(idx) x Inputs) and y.
func gather(c Config, d Dataset, idx []int, x []float64, y []int) {
	for i, s := range idx {
		copy(x[i*c.Inputs:(i+1)*c.Inputs], d.X[s*c.Inputs:(s+1)*c.Inputs])
		if y != nil {
			y[i] = d.Y[s]
		}
	}
}

// Accuracy returns the fraction of d that the parameters classify right.
func Accuracy(c Config, d Dataset, params [][]float64) float64 {
	s := c.Sizes()
	a := d.X
	for l, p := range params {
		out := make([]float64, c.Samples*s[l+1])
		Forward(a, c.Samples, s[l], p, s[l+1], out, l < len(params)-1)
		a = out
	}
	right := 0
	for i := range c.Samples {
		z := a[i*c.Classes : (i+1)*c.Classes]
		best := 0
		for j, v := range z {
			if v > z[best] {
				best = j
			}
		}
		if best == d.Y[i] {
			right++
		}
	}
	return float64(right) / float64(c.Samples)
}

// TrainSerial trains on one goroutine without the runtime: the reference the
// data-parallel runs are compared with.
func TrainSerial(c Config, d Dataset) (Result, error) {
	if err := c.Check(); err != nil {
		return Result{}, err
	}
	s := c.Sizes()
	L := len(s) - 1
	params := InitParams(c)
	b := c.Batch
	acts := make([][]float64, L+1)
	deltas := make([][]float64, L)
	grads := make([][]float64, L)
	for l := range acts {
		acts[l] = make([]float64, b*s[l])
	}
	for l := range L {
		deltas[l] = make([]float64, b*s[l+1])
		grads[l] = make([]float64, len(params[l]))
	}
	y := make([]int, b)
	var res Result
	for e := range c.Epochs {
		order := Order(c, e)
		var sum float64
		for st := range c.Steps() {
			gather(c, d, order[st*b:(st+1)*b], acts[0], y)
			for l := range L {
				Forward(acts[l], b, s[l], params[l], s[l+1], acts[l+1], l < L-1)
			}
			sum += Loss(acts[L], b, c.Classes, y, 1/float64(b), deltas[L-1])
			for l := L - 1; l >= 0; l-- {
				Gradient(acts[l], b, s[l], deltas[l], s[l+1], grads[l])
				if l > 0 {
					Backward(deltas[l], b, s[l+1], params[l], s[l], acts[l], deltas[l-1])
				}
				SGD(params[l], grads[l], c.LR)
			}
		}
		res.EpochLoss = append(res.EpochLoss, sum/float64(c.Steps()*b))
	}
	res.Params = params
	res.Accuracy = Accuracy(c, d, params)
	return res, nil
}

// Task names, by kind; the compute kinds are the ones the overlap measure
// counts as computation.
const (
	NameLoad     = "load"
	NameForward  = "fwd"
	NameLoss     = "loss"
	NameGradient = "grad"
	NameBackward = "bwd"
	NameReduce   = "reduce"
	NameUpdate   = "sgd"
)

// ComputeNames are the name prefixes of the compute tasks.
var ComputeNames = []string{NameForward, NameLoss, NameGradient, NameBackward}

// Train trains data-parallel over rt (see the package comment). It is
// collective: every rank calls it with the same Config and Dataset. onEpoch,
// if not nil, is called on every rank after each epoch with the epoch's mean
// loss.
func Train(rt *dagmpi.Runtime, c Config, d Dataset, onEpoch func(epoch int, loss float64)) (Result, error) {
	if err := c.Check(); err != nil {
		return Result{}, err
	}
	p, me := rt.Size(), rt.Rank()
	if c.Batch < p {
		return Result{}, fmt.Errorf("mlp: batch %d smaller than the %d ranks", c.Batch, p)
	}
	s := c.Sizes()
	L := len(s) - 1
	init := InitParams(c)
	type rankData struct {
		rows         int
		params, grad []*dagmpi.Data[float64]
		act          []*dagmpi.Data[float64] // L+1: input, then each layer's output
		delta        []*dagmpi.Data[float64] // L: error at each layer's output
		loss         *dagmpi.Data[float64]   // the sum of this rank's losses in the epoch
	}
	ranks := make([]rankData, p)
	newData := func(n, home int, v []float64) *dagmpi.Data[float64] {
		if home != me {
			v = nil
		}
		h, err := dagmpi.NewData(rt, n, home, v)
		if err != nil {
			panic(err) // sizes and homes are valid by construction
		}
		return h
	}
	for r := range ranks {
		lo, hi := Shard(c.Batch, r, p)
		rd := &ranks[r]
		rd.rows = hi - lo
		for l := range L {
			rd.params = append(rd.params, newData(len(init[l]), r, init[l]))
			rd.grad = append(rd.grad, newData(len(init[l]), r, nil))
			rd.delta = append(rd.delta, newData(rd.rows*s[l+1], r, nil))
		}
		for l := range L + 1 {
			rd.act = append(rd.act, newData(rd.rows*s[l], r, nil))
		}
		rd.loss = newData(1, r, nil)
	}
	scale := 1 / float64(c.Batch)
	var res Result
	for e := range c.Epochs {
		order := Order(c, e)
		for r := range ranks {
			rd := &ranks[r]
			if err := rt.Submit(func(t *dagmpi.Task) error {
				rd.loss.Buf(t)[0] = 0
				return nil
			}, rd.loss.Write(), dagmpi.Name("zero-loss")); err != nil {
				return res, err
			}
		}
		for st := range c.Steps() {
			batch := order[st*c.Batch : (st+1)*c.Batch]
			for r := range ranks {
				rd := &ranks[r]
				lo, hi := Shard(c.Batch, r, p)
				idx := batch[lo:hi]
				if err := rt.Submit(func(t *dagmpi.Task) error {
					gather(c, d, idx, rd.act[0].Buf(t), nil)
					return nil
				}, rd.act[0].Write(), dagmpi.Name(NameLoad), dagmpi.Priority(5)); err != nil {
					return res, err
				}
			}
			for l := range L {
				for r := range ranks {
					rd := &ranks[r]
					if err := rt.Submit(func(t *dagmpi.Task) error {
						Forward(rd.act[l].Buf(t), rd.rows, s[l], rd.params[l].Buf(t), s[l+1], rd.act[l+1].Buf(t), l < L-1)
						return nil
					}, rd.act[l+1].Write(), rd.act[l].Read(), rd.params[l].Read(), dagmpi.Name(NameForward), dagmpi.Priority(5)); err != nil {
						return res, err
					}
				}
			}
			for r := range ranks {
				rd := &ranks[r]
				lo, hi := Shard(c.Batch, r, p)
				idx := batch[lo:hi]
				if err := rt.Submit(func(t *dagmpi.Task) error {
					y := make([]int, len(idx))
					for i, sm := range idx {
						y[i] = d.Y[sm]
					}
					rd.loss.Buf(t)[0] += Loss(rd.act[L].Buf(t), rd.rows, c.Classes, y, scale, rd.delta[L-1].Buf(t))
					return nil
				}, rd.delta[L-1].Write(), rd.act[L].Read(), rd.loss.ReadWrite(), dagmpi.Name(NameLoss), dagmpi.Priority(5)); err != nil {
					return res, err
				}
			}
			for l := L - 1; l >= 0; l-- {
				parts := make([]*dagmpi.Data[float64], p)
				for r := range ranks {
					rd := &ranks[r]
					parts[r] = rd.grad[l]
					if err := rt.Submit(func(t *dagmpi.Task) error {
						Gradient(rd.act[l].Buf(t), rd.rows, s[l], rd.delta[l].Buf(t), s[l+1], rd.grad[l].Buf(t))
						return nil
					}, rd.grad[l].Write(), rd.act[l].Read(), rd.delta[l].Read(), dagmpi.Name(NameGradient), dagmpi.Priority(3)); err != nil {
						return res, err
					}
				}
				// The reduction of layer l is submitted before the back
				// propagation to layer l-1, so it proceeds while that runs.
				sum, err := stfcoll.ReduceSum(rt, parts, l%p, 4, NameReduce)
				if err != nil {
					return res, err
				}
				if l > 0 {
					for r := range ranks {
						rd := &ranks[r]
						if err := rt.Submit(func(t *dagmpi.Task) error {
							Backward(rd.delta[l].Buf(t), rd.rows, s[l+1], rd.params[l].Buf(t), s[l], rd.act[l].Buf(t), rd.delta[l-1].Buf(t))
							return nil
						}, rd.delta[l-1].Write(), rd.delta[l].Read(), rd.params[l].Read(), rd.act[l].Read(), dagmpi.Name(NameBackward), dagmpi.Priority(5)); err != nil {
							return res, err
						}
					}
				}
				for r := range ranks {
					rd := &ranks[r]
					if err := rt.Submit(func(t *dagmpi.Task) error {
						SGD(rd.params[l].Buf(t), sum.Buf(t), c.LR)
						return nil
					}, rd.params[l].ReadWrite(), sum.Read(), dagmpi.Name(NameUpdate), dagmpi.Priority(1)); err != nil {
						return res, err
					}
				}
			}
		}
		var total float64
		for r := range ranks {
			v, err := ranks[r].loss.FetchAll()
			if err != nil {
				return res, err
			}
			total += v[0]
		}
		loss := total / float64(c.Steps()*c.Batch)
		res.EpochLoss = append(res.EpochLoss, loss)
		if onEpoch != nil {
			onEpoch(e, loss)
		}
	}
	for l := range L {
		v, err := ranks[0].params[l].FetchAll()
		if err != nil {
			return res, err
		}
		res.Params = append(res.Params, v)
	}
	res.Accuracy = Accuracy(c, d, res.Params)
	return res, rt.Wait()
}
