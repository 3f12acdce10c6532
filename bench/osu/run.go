package main

import (
	"fmt"
	"io"

	"github.com/spmd-go/spmd/collective"
	"github.com/spmd-go/spmd/mpi"
)

// sizeError reports a world size the test cannot run with. Every rank finds
// it, so the program can finalize and exit instead of aborting.
type sizeError struct {
	test string
	np   int
}

func (e *sizeError) Error() string {
	return fmt.Sprintf("osu: %s requires exactly 2 processes, not %d", e.test, e.np)
}

// result is one measurement of one size by one loop (Go or C), as rank 0
// reports it.
type result struct {
	avg, min, max float64
}

// row is one line of output.
type row struct {
	size         int
	iters, skip  int
	goRes, cRes  result
	hasC, hasMin bool
	algRes       []result  // one per -algorithm when there are several
	nb, nbC      *nbResult // nonblocking tests: averages over ranks, in us (Go, C)
}

// buffers are allocated once, for the largest size, and touched before any
// timing; both loops use the same buffers.
type buffers struct {
	s, r, ack []byte
	reqs      []mpi.Request
	x         *collective.Context // -algorithm
}

func newBuffers(t *test, o *options, np int) *buffers {
	n := o.max
	if t.op == collAllgather || t.op == collAlltoall || t.op == collAlltoallv {
		n *= np
	}
	b := &buffers{s: make([]byte, n), r: make([]byte, n), ack: make([]byte, 4), reqs: make([]mpi.Request, 2*o.window)}
	for i := range b.s {
		b.s[i] = 'a'
		b.r[i] = 'b'
	}
	return b
}

// run runs test t with options o on communicator c and prints on rank 0.
// For each size it runs the Go loop, then (with -compare-c) the C loop, each
// after a barrier and with its own warm-up iterations.
func run(c *mpi.Comm, t *test, o *options, out io.Writer) error {
	rank, np := c.Rank(), c.Size()
	if (t.class == p2p || t.class == onesided) && np != 2 {
		return &sizeError{test: t.name, np: np}
	}
	b := newBuffers(t, o, np)
	if o.algs != nil {
		var err error
		if b.x, err = collective.NewContext(c); err != nil {
			return err
		}
		defer b.x.Close()
		if err := b.x.Prepare(nil); err != nil { // the Native sub-communicator
			return err
		}
	}
	var p *printer
	if rank == 0 {
		p = &printer{w: out, t: t, o: o, np: np}
		p.header()
	}
	sizes := o.sizes()
	if t.class == barrier {
		sizes = []int{0}
	}
	for _, size := range sizes {
		iters, skip := o.schedule(t, size)
		rw := row{size: size, iters: iters, skip: skip, hasMin: t.class == coll || t.class == barrier}
		rw.hasC = o.compareC
		if t.nb {
			var alg *algorithm
			if len(o.algs) == 1 {
				alg = &o.algs[0]
			}
			for _, useC := range o.loops() {
				if err := mpi.Barrier(c); err != nil {
					return err
				}
				var res nbResult
				var err error
				if useC {
					res, err = cNonblocking(t.op, b.s, b.r, size, iters, skip)
				} else {
					res, err = goNonblocking(newNbPoster(c, b.x, t.op, alg, b.s, b.r, size), iters, skip)
				}
				if err != nil {
					return err
				}
				if res, err = nbOverRanks(c, res); err != nil {
					return err
				}
				if useC {
					rw.nbC = &res
				} else {
					rw.nb = &res
				}
			}
			if p != nil {
				if err := p.row(&rw); err != nil {
					return err
				}
			}
			continue
		}
		if len(o.algs) > 1 {
			for i := range o.algs {
				res, err := measure(c, t, o, b, &o.algs[i], size, iters, skip, false)
				if err != nil {
					return err
				}
				rw.algRes = append(rw.algRes, res)
			}
		}
		var alg *algorithm
		if len(o.algs) == 1 {
			alg = &o.algs[0]
		}
		for _, useC := range o.loops() {
			if len(o.algs) > 1 {
				break
			}
			res, err := measure(c, t, o, b, alg, size, iters, skip, useC)
			if err != nil {
				return err
			}
			if useC {
				rw.cRes = res
			} else {
				rw.goRes = res
			}
		}
		if p != nil {
			if err := p.row(&rw); err != nil {
				return err
			}
		}
	}
	return nil
}

// loops lists the loops to run for each size: false is Go, true is C.
func (o *options) loops() []bool {
	switch {
	case !o.compareC:
		return []bool{false}
	case o.cFirst:
		return []bool{true, false}
	}
	return []bool{false, true}
}

// measure runs one loop (Go, or C if useC) for one size and returns the
// value rank 0 reports: the one-way latency in us or the bandwidth in MB/s
// seen by rank 0 for point-to-point tests; for collectives the average over
// ranks of each rank's average latency in us, with its min and max over
// ranks.
// alg, when not nil, is the -algorithm of the Go loop.
func measure(c *mpi.Comm, t *test, o *options, b *buffers, alg *algorithm, size, iters, skip int, useC bool) (result, error) {
	rank := c.Rank()
	if err := mpi.Barrier(c); err != nil {
		return result{}, err
	}
	var sec float64
	var err error
	switch {
	case t.name == "latency":
		if useC {
			sec, err = cLatency(rank, b.s, b.r, size, iters, skip)
		} else {
			sec, err = goLatency(c, rank, b.s, b.r, size, iters, skip)
		}
		if err != nil {
			return result{}, err
		}
		us := sec * 1e6 / float64(2*iters)
		return result{avg: us, min: us, max: us}, nil
	case t.class == onesided:
		// The latency tests under fence and pscw are ping-pongs, as in
		// OSU: the time then covers two operations.
		window, buf := 1, b.s
		pingPong := !t.rmaBW && (o.sync == syncFence || o.sync == syncPSCW)
		if t.rmaBW {
			window = o.window
		}
		if t.rop == rmaGet {
			buf = b.r
		}
		winSize := max(o.max, 1)
		if useC {
			sec, err = cOneSided(rank, t.rop, buf, winSize, size, window, iters, skip)
		} else {
			sec, err = goOneSided(c, rank, t.rop, o, buf, winSize, size, window, iters, skip, pingPong)
		}
		if err != nil {
			return result{}, err
		}
		var v float64
		if t.rmaBW {
			v = float64(size) * float64(iters) * float64(window) / 1e6 / sec
		} else {
			v = sec * 1e6 / float64(iters)
			if pingPong {
				v /= 2
			}
		}
		return result{avg: v, min: v, max: v}, nil
	case t.class == p2p:
		if useC {
			sec, err = cBandwidth(rank, t.bidir, b.s, b.r, b.ack, size, o.window, iters, skip)
		} else {
			sec, err = goBandwidth(c, rank, t.bidir, b.s, b.r, b.ack, size, o.window, iters, skip, b.reqs)
		}
		if err != nil {
			return result{}, err
		}
		bytes := float64(size) * float64(iters) * float64(o.window)
		if t.bidir {
			bytes *= 2
		}
		mbs := bytes / 1e6 / sec
		return result{avg: mbs, min: mbs, max: mbs}, nil
	}
	if useC {
		sec, err = cCollective(t.op, b.s, b.r, size, iters, skip)
	} else if alg != nil && !alg.mpi {
		sec, err = goCollectiveAlg(b.x, t.op, alg.alg, b.s, b.r, size, iters, skip)
	} else {
		sec, err = goCollective(c, t.op, b.s, b.r, size, iters, skip)
	}
	if err != nil {
		return result{}, err
	}
	return overRanks(c, sec*1e6/float64(iters))
}

// overRanks combines each rank's latency at rank 0 like OSU: min, max and
// the sum divided by the number of ranks.
func overRanks(c *mpi.Comm, us float64) (result, error) {
	in := []float64{us}
	var sum, min, max [1]float64
	if err := mpi.Reduce(c, in, min[:], mpi.Min, 0); err != nil {
		return result{}, err
	}
	if err := mpi.Reduce(c, in, max[:], mpi.Max, 0); err != nil {
		return result{}, err
	}
	if err := mpi.Reduce(c, in, sum[:], mpi.Sum, 0); err != nil {
		return result{}, err
	}
	return result{avg: sum[0] / float64(c.Size()), min: min[0], max: max[0]}, nil
}
