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
}

// parseAlgorithms parses the -algorithm list for test t.
func parseAlgorithms(t *test, s string) ([]algorithm, error) {
	if s == "" {
		return nil, nil
	}
	list, ok := algTests[t.op]
	if !ok || t.class != coll {
		return nil, fmt.Errorf("osu: -algorithm applies to bcast, allreduce and reduce, not to %s", t.name)
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

// goCollectiveAlg is goCollective for Bcast, Allreduce and Reduce run by
// algorithm alg of package collective over the whole communicator of x:
// each timed call makes the operation and waits for it (Op.Wait), then an
// untimed barrier follows.
func goCollectiveAlg(x *collective.Context, op collOp, alg collective.Algorithm, s, r []byte, size, iters, skip int) (float64, error) {
	c := x.Comm()
	sb, rb := s[:size], r[:size]
	si, ri := int8s(sb), int8s(rb)
	spec := collective.Spec{Alg: alg}
	var timer time.Duration
	for i := 0; i < iters+skip; i++ {
		var o *collective.Op
		var err error
		t0 := time.Now()
		switch op {
		case collBcast:
			o, err = collective.Bcast(x, sb, spec)
		case collAllreduce:
			o, err = collective.Allreduce(x, si, ri, mpi.Sum, spec)
		case collReduce:
			o, err = collective.Reduce(x, si, ri, mpi.Sum, spec)
		default:
			return 0, fmt.Errorf("osu: no collective algorithm for this test")
		}
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
