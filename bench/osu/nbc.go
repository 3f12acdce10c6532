package main

import (
	"time"

	"github.com/spmd-go/spmd/collective"
	"github.com/spmd-go/spmd/mpi"
)

// nbcTests is how many times the dummy compute of a nonblocking collective
// test calls Test on the pending operation: after each of nbcTests equal
// slices of the compute time (OSU's tests likewise call MPI_Test a few
// times during the compute to let the library progress).
const nbcTests = 8

// nbReq is a pending nonblocking collective: a request of the mpi package,
// or an operation of package collective (-algorithm).
type nbReq struct {
	r mpi.Request
	o *collective.Op
}

func (q *nbReq) test() error {
	if q.o != nil {
		_, err := q.o.Test()
		return err
	}
	if q.r.IsNull() {
		return nil
	}
	_, _, err := q.r.Test()
	return err
}

func (q *nbReq) wait() error {
	if q.o != nil {
		return q.o.Wait()
	}
	if q.r.IsNull() {
		return nil
	}
	_, err := q.r.Wait()
	return err
}

// nbPoster starts one nonblocking collective of a test on the buffers of
// goCollective for one size: the mpi package's Ibcast, Iallreduce,
// Ireduce (root 0, MPI_SUM over int8), Iallgather or Ialltoall, or, with
// alg, the operation of package collective.
type nbPoster struct {
	c      *mpi.Comm
	op     collOp
	sb, rb []byte
	alg    *algCall
}

func newNbPoster(c *mpi.Comm, x *collective.Context, op collOp, alg *algorithm, s, r []byte, size int) *nbPoster {
	np := c.Size()
	p := &nbPoster{c: c, op: op, sb: s[:size], rb: r[:size]}
	switch op {
	case collAllgather:
		p.rb = r[:size*np]
	case collAlltoall:
		p.sb, p.rb = s[:size*np], r[:size*np]
	}
	if alg != nil && !alg.mpi {
		p.alg = newAlgCall(x, op, alg.alg, s, r, size)
	}
	return p
}

func (p *nbPoster) post() (nbReq, error) {
	if p.alg != nil {
		o, err := p.alg.start()
		return nbReq{o: o}, err
	}
	var r mpi.Request
	var err error
	switch p.op {
	case collBarrier:
		r, err = mpi.Ibarrier(p.c)
	case collBcast:
		r, err = mpi.Ibcast(p.c, p.sb, 0)
	case collAllreduce:
		r, err = mpi.Iallreduce(p.c, int8s(p.sb), int8s(p.rb), mpi.Sum)
	case collReduce:
		r, err = mpi.Ireduce(p.c, int8s(p.sb), int8s(p.rb), mpi.Sum, 0)
	case collAllgather:
		r, err = mpi.Iallgather(p.c, p.sb, p.rb)
	case collAlltoall:
		r, err = mpi.Ialltoall(p.c, p.sb, p.rb)
	}
	return nbReq{r: r}, err
}

// nbResult is one rank's averages per iteration of a nonblocking
// collective test, in seconds.
type nbResult struct {
	overall, compute, comm float64
}

// goNonblocking measures a nonblocking collective as OSU's osu_i* tests
// do. First the pure communication time: each iteration posts the
// operation and waits for it at once. Then, with the average of that as the
// compute target, each iteration posts the operation, computes for about
// the target time (a busy loop, no MPI) calling Test after each of
// nbcTests slices of it, and waits; overall is the time from the post to
// the end of the wait, compute the time of the compute loop with its Tests.
// Each phase has skip warm-up iterations and ends with a barrier. No
// barrier separates the iterations, as in OSU.
func goNonblocking(p *nbPoster, iters, skip int) (nbResult, error) {
	var res nbResult
	var timer time.Duration
	for i := 0; i < iters+skip; i++ {
		t0 := time.Now()
		q, err := p.post()
		if err == nil {
			err = q.wait()
		}
		t1 := time.Now()
		if err != nil {
			return res, err
		}
		if i >= skip {
			timer += t1.Sub(t0)
		}
	}
	if err := mpi.Barrier(p.c); err != nil {
		return res, err
	}
	res.comm = timer.Seconds() / float64(iters)
	target := time.Duration(res.comm * 1e9)
	var overall, compute time.Duration
	for i := 0; i < iters+skip; i++ {
		t0 := time.Now()
		q, err := p.post()
		if err != nil {
			return res, err
		}
		tc := time.Now()
		if err := dummyCompute(target, &q); err != nil {
			return res, err
		}
		tw := time.Now()
		err = q.wait()
		t1 := time.Now()
		if err != nil {
			return res, err
		}
		if i >= skip {
			overall += t1.Sub(t0)
			compute += tw.Sub(tc)
		}
	}
	if err := mpi.Barrier(p.c); err != nil {
		return res, err
	}
	res.overall = overall.Seconds() / float64(iters)
	res.compute = compute.Seconds() / float64(iters)
	return res, nil
}

// sink keeps the dummy compute's arithmetic from being optimised away.
var sink float64

// dummyCompute keeps the CPU busy for about d, calling q.test after each
// of nbcTests equal slices.
func dummyCompute(d time.Duration, q *nbReq) error {
	start := time.Now()
	x := sink
	for k := 1; k <= nbcTests; k++ {
		until := d * time.Duration(k) / nbcTests
		for time.Since(start) < until {
			for j := 0; j < 64; j++ {
				x = x*0.999999 + 1
			}
		}
		if err := q.test(); err != nil {
			return err
		}
	}
	sink = x
	return nil
}

// overlap is OSU's overlap percentage: 100 - (overall - compute) / comm *
// 100, at least 0; it is also at most 100 (overall shorter than compute,
// which only timer noise gives).
func overlap(overall, compute, comm float64) float64 {
	if comm <= 0 {
		return 0
	}
	return min(100, max(0, 100-(overall-compute)/comm*100))
}

// nbOverRanks averages each rank's overall, compute and communication
// times at rank 0, as OSU does, in us.
func nbOverRanks(c *mpi.Comm, r nbResult) (nbResult, error) {
	in := []float64{r.overall * 1e6, r.compute * 1e6, r.comm * 1e6}
	var sum [3]float64
	if err := mpi.Reduce(c, in, sum[:], mpi.Sum, 0); err != nil {
		return nbResult{}, err
	}
	n := float64(c.Size())
	return nbResult{overall: sum[0] / n, compute: sum[1] / n, comm: sum[2] / n}, nil
}
