package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spmd-go/spmd/collective"
	"github.com/spmd-go/spmd/mpi"
)

// algorithm is one choice of -algorithm: the mpi package's blocking
// collective ("mpi", also what runs without -algorithm) or an algorithm of
// package collective ("native" being the MPI library's nonblocking
// collective driven through package collective).
type algorithm struct {
	name string
	mpi  bool
	alg  collective.Algorithm
}

// algTests are the tests -algorithm applies to, with the algorithms each
// accepts.
var algTests = map[collOp][]collective.Algorithm{
	collBcast:     collective.BcastAlgorithms,
	collAllreduce: collective.AllreduceAlgorithms,
	collReduce:    collective.ReduceAlgorithms,
	collAlltoall:  collective.AlltoallvAlgorithms,
	collAlltoallv: collective.AlltoallvAlgorithms,
}

// parseAlgorithms parses the -algorithm list for test t.
func parseAlgorithms(t *test, s string) ([]algorithm, error) {
	if s == "" {
		return nil, nil
	}
	list, ok := algTests[t.op]
	if t.nb && t.op == collAlltoall {
		ok = false
	}
	if !ok || t.class != coll {
		return nil, fmt.Errorf("osu: -algorithm applies to bcast, allreduce, reduce, alltoall, alltoallv, ibcast, iallreduce and ireduce, not to %s", t.name)
	}
	var out []algorithm
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "mpi" {
			out = append(out, algorithm{name: f, mpi: true})
			continue
		}
		a, err := collective.ParseAlgorithm(f)
		if err != nil {
			return nil, fmt.Errorf("osu: bad -algorithm %q: %v", f, err)
		}
		if a != collective.Default && !contains(list, a) {
			return nil, fmt.Errorf("osu: -algorithm %s: %s has %v (or default, mpi)", f, t.name, list)
		}
		out = append(out, algorithm{name: a.String(), alg: a})
	}
	return out, nil
}

func contains(list []collective.Algorithm, a collective.Algorithm) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}

// algCall makes one operation of algorithm alg of package collective for
// test op over the whole communicator of x, on the buffers of goCollective
// for size bytes. Alltoall runs as an Alltoallv with equal counts (counts,
// displs), the only all-to-all of package collective.
type algCall struct {
	x              *collective.Context
	op             collOp
	spec           collective.Spec
	sb, rb         []byte
	counts, displs []int
}

func newAlgCall(x *collective.Context, op collOp, alg collective.Algorithm, s, r []byte, size int) *algCall {
	np := x.Comm().Size()
	a := &algCall{x: x, op: op, spec: collective.Spec{Alg: alg}, sb: s[:size], rb: r[:size]}
	if op == collAlltoall || op == collAlltoallv {
		a.sb, a.rb = s[:size*np], r[:size*np]
		a.counts, a.displs = vcounts(np, size)
	}
	return a
}

func (a *algCall) start() (*collective.Op, error) {
	switch a.op {
	case collBcast:
		return collective.Bcast(a.x, a.sb, a.spec)
	case collAllreduce:
		return collective.Allreduce(a.x, int8s(a.sb), int8s(a.rb), mpi.Sum, a.spec)
	case collReduce:
		return collective.Reduce(a.x, int8s(a.sb), int8s(a.rb), mpi.Sum, a.spec)
	case collAlltoall, collAlltoallv:
		return collective.Alltoallv(a.x, a.sb, a.counts, a.displs, a.rb, a.counts, a.displs, a.spec)
	}
	return nil, fmt.Errorf("osu: no collective algorithm for this test")
}

// goCollectiveAlg is goCollective for Bcast, Allreduce, Reduce, Alltoall
// and Alltoallv run by algorithm alg of package collective over the whole
// communicator of x: each timed call makes the operation and waits for it
// (Op.Wait), then an untimed barrier follows.
func goCollectiveAlg(x *collective.Context, op collOp, alg collective.Algorithm, s, r []byte, size, iters, skip int) (float64, error) {
	c := x.Comm()
	a := newAlgCall(x, op, alg, s, r, size)
	var timer time.Duration
	for i := 0; i < iters+skip; i++ {
		t0 := time.Now()
		o, err := a.start()
		if err == nil {
			err = o.Wait()
		}
		t1 := time.Now()
		if err != nil {
			return 0, err
		}
		if i >= skip {
			timer += t1.Sub(t0)
		}
		if err := mpi.Barrier(c); err != nil {
			return 0, err
		}
	}
	return timer.Seconds(), nil
}
