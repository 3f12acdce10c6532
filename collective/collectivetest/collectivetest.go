// Package collectivetest is the conformance suite of package collective:
// every algorithm of every operation runs over several member sets (the
// whole communicator, reversed, every other rank, the odd ranks, a
// rotation), both ends of the root range, and sizes from 0 elements up to
// about 1 MiB, with the results checked exactly (integers, and the bits of
// floating-point allreduces across members) or within a named tolerance
// (floating-point sums against a sequential sum).
//
// Every function here is collective over the Context's communicator: all
// ranks call it at the same time with the same arguments. A failed check is
// reported with t.Errorf and the suite goes on, so that every rank makes
// the same sequence of calls whatever its checks find.
package collectivetest

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/spmd-go/spmd/collective"
	"github.com/spmd-go/spmd/mpi"
)

// FloatTol is the absolute tolerance of a float64 sum of at most a few
// members' values (each below 150): a sum of p terms in another order
// differs from the sequential one by at most about p ulps of the result
// (below 1e3, ulp 1.1e-13).
const FloatTol = 1e-10

// Sizes are the element counts of the suite: empty, one element, a small
// odd count, a count that is not a multiple of the chunk (Chunk) or of any
// member count up to 5, and about 1 MiB of int32 (only on the whole
// communicator, to keep the suite fast).
var Sizes = []int{0, 1, 7, 1003, 1<<18 + 3}

// Big is the size above which a case runs on the whole communicator only.
const Big = 1 << 16

// Chunk is the chunk size (elements) given to the pipelined algorithms, so
// that the small sizes already take several chunks.
const Chunk = 100

// Subset is a named member list.
type Subset struct {
	Name    string
	Members []int
}

// Subsets returns the member sets the suite runs over a communicator of n
// ranks: nil (all, rank order), reversed, even ranks, odd ranks (when n >
// 1) and the rotation 1, 2, ..., 0 (when n > 2).
func Subsets(n int) []Subset {
	var rev, even, odd, rot []int
	for r := n - 1; r >= 0; r-- {
		rev = append(rev, r)
	}
	for r := 0; r < n; r++ {
		if r%2 == 0 {
			even = append(even, r)
		} else {
			odd = append(odd, r)
		}
		rot = append(rot, (r+1)%n)
	}
	s := []Subset{{"all", nil}, {"reversed", rev}, {"even", even}}
	if n > 1 {
		s = append(s, Subset{"odd", odd})
	}
	if n > 2 {
		s = append(s, Subset{"rotated", rot})
	}
	return s
}

// members returns the member list (nil: all n ranks) and this rank's index.
func members(m []int, n, rank int) ([]int, int) {
	if m == nil {
		m = make([]int, n)
		for i := range m {
			m[i] = i
		}
	}
	for i, r := range m {
		if r == rank {
			return m, i
		}
	}
	return m, -1
}

// I32 is the int32 input of rank r at element i.
func I32(r, i int) int32 { return int32(r*100003 + i*31 + 1) }

// F64 is the float64 input of rank r at element i: values below 150 whose
// sums are not exact in binary.
func F64(r, i int) float64 { return float64((r*7919+i*104729)%1000+1) / 7 }

// Timeout bounds each Wait of the suite.
var Timeout = 60 * time.Second

// wait drives op to the end with Progress, failing after Timeout.
func wait(op *collective.Op) error {
	deadline := time.Now().Add(Timeout)
	for i := 0; ; i++ {
		d, err := op.Progress()
		if d || err != nil {
			return err
		}
		if i%1024 == 0 && time.Now().After(deadline) {
			return fmt.Errorf("%v: not done after %v", op, Timeout)
		}
	}
}

// finish completes op, by Wait or by Progress alternately (both paths are
// part of the contract).
func finish(op *collective.Op, err error, blocking bool) error {
	if err != nil {
		return err
	}
	if blocking {
		return op.Wait()
	}
	return wait(op)
}

// Bcast broadcasts n int32s from member index root over members with alg
// and checks every member's buffer.
func Bcast(x *collective.Context, alg collective.Algorithm, m []int, root, n int) error {
	c := x.Comm()
	all, me := members(m, c.Size(), c.Rank())
	buf := make([]int32, n)
	src := all[root]
	if me == root {
		for i := range buf {
			buf[i] = I32(src, i)
		}
	}
	op, err := collective.Bcast(x, buf, collective.Spec{Members: m, Root: root, Alg: alg, Chunk: Chunk})
	if err := finish(op, err, n%2 == 0); err != nil {
		return err
	}
	if me < 0 {
		if op.Member() {
			return fmt.Errorf("rank %d is not in %v but its Op says it is a member", c.Rank(), all)
		}
		return nil
	}
	for i, v := range buf {
		if want := I32(src, i); v != want {
			return fmt.Errorf("rank %d (member %d): buf[%d] = %d, want %d from rank %d", c.Rank(), me, i, v, want, src)
		}
	}
	return nil
}

// intReduce is the expected reduction of I32 (or its int64 widening) over
// the members at element i.
func intReduce(all []int, op mpi.Op, i int) int64 {
	acc := int64(I32(all[0], i))
	for _, r := range all[1:] {
		v := int64(I32(r, i))
		switch op {
		case mpi.Sum:
			acc = int64(int32(acc + v))
		case mpi.Prod:
			acc = int64(int32(acc * v))
		case mpi.Max:
			acc = max(acc, v)
		case mpi.Min:
			acc = min(acc, v)
		}
	}
	return acc
}

// ReduceInt32 reduces n int32s with op (Sum, Prod, Max or Min) over members
// with alg, into the root (allreduce when all is true), and checks the
// result exactly.
func ReduceInt32(x *collective.Context, alg collective.Algorithm, m []int, root, n int, op mpi.Op, all bool) error {
	c := x.Comm()
	list, me := members(m, c.Size(), c.Rank())
	send := make([]int32, n)
	for i := range send {
		send[i] = I32(c.Rank(), i)
	}
	var recv []int32
	if all || me == root {
		recv = make([]int32, n)
	}
	spec := collective.Spec{Members: m, Root: root, Alg: alg, Chunk: Chunk}
	var o *collective.Op
	var err error
	if all {
		o, err = collective.Allreduce(x, send, recv, op, spec)
	} else {
		o, err = collective.Reduce(x, send, recv, op, spec)
	}
	if err := finish(o, err, n%2 == 1); err != nil {
		return err
	}
	for i := range send {
		if send[i] != I32(c.Rank(), i) {
			return fmt.Errorf("rank %d: send[%d] changed to %d", c.Rank(), i, send[i])
		}
	}
	if me < 0 || recv == nil {
		return nil
	}
	for i, v := range recv {
		if want := int32(intReduce(list, op, i)); v != want {
			return fmt.Errorf("rank %d (member %d): %v: recv[%d] = %d, want %d", c.Rank(), me, op, i, v, want)
		}
	}
	return nil
}

// AllreduceFloat64 sums n float64s over members with alg, in place when
// inPlace, and checks the result against a sequential sum within FloatTol,
// and that every member holds the same bits.
func AllreduceFloat64(x *collective.Context, alg collective.Algorithm, m []int, n int, inPlace bool) error {
	c := x.Comm()
	list, me := members(m, c.Size(), c.Rank())
	send := make([]float64, n)
	for i := range send {
		send[i] = F64(c.Rank(), i)
	}
	recv := send
	if !inPlace {
		recv = make([]float64, n)
	}
	o, err := collective.Allreduce(x, send, recv, mpi.Sum, collective.Spec{Members: m, Alg: alg})
	if err := finish(o, err, true); err != nil {
		return err
	}
	// Hash the bits and compare across members (every rank joins the
	// gather; non-members send 0 with a flag of 0).
	var h uint64 = 14695981039346656037
	var bad error
	if me >= 0 {
		for i, v := range recv {
			want := 0.0
			for _, r := range list {
				want += F64(r, i)
			}
			if math.Abs(v-want) > FloatTol && bad == nil {
				bad = fmt.Errorf("rank %d (member %d): recv[%d] = %.17g, want %.17g within %g", c.Rank(), me, i, v, want, FloatTol)
			}
			h = (h ^ math.Float64bits(v)) * 1099511628211
		}
	}
	mine := []uint64{h, 0}
	if me >= 0 {
		mine[1] = 1
	}
	got := make([]uint64, 2*c.Size())
	if err := mpi.Allgather(c, mine, got); err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	for r := 0; r < c.Size(); r++ {
		if got[2*r+1] == 1 && me >= 0 && got[2*r] != h {
			return fmt.Errorf("rank %d (member %d): the result's bits differ from rank %d's", c.Rank(), me, r)
		}
	}
	return nil
}

// count is how many elements member i sends member j in Alltoallv for size
// n: 0, n/2 or n.
func count(i, j, n int) int { return n * ((i + 2*j) % 3) / 2 }

func a2aVal(i, j, t int) int32 { return int32(i*1000003 + j*1009 + t) }

// Alltoallv exchanges blocks of up to n elements between every pair of
// members (some empty), with gaps in the send layout, and checks them.
func Alltoallv(x *collective.Context, alg collective.Algorithm, m []int, n int) error {
	c := x.Comm()
	list, me := members(m, c.Size(), c.Rank())
	p := len(list)
	var send, recv []int32
	var sc, sd, rc []int
	if me >= 0 {
		sc, sd, rc = make([]int, p), make([]int, p), make([]int, p)
		off, roff := 0, 0
		for j := 0; j < p; j++ {
			sc[j], rc[j] = count(me, j, n), count(j, me, n)
			sd[j] = off + 1 // a gap before each block
			off = sd[j] + sc[j]
			roff += rc[j]
		}
		send, recv = make([]int32, off), make([]int32, roff)
		for j := 0; j < p; j++ {
			for t := 0; t < sc[j]; t++ {
				send[sd[j]+t] = a2aVal(me, j, t)
			}
		}
	}
	o, err := collective.Alltoallv(x, send, sc, sd, recv, rc, nil, collective.Spec{Members: m, Alg: alg})
	if err := finish(o, err, false); err != nil {
		return err
	}
	if me < 0 {
		return nil
	}
	k := 0
	for j := 0; j < p; j++ {
		for t := 0; t < rc[j]; t++ {
			if want := a2aVal(j, me, t); recv[k] != want {
				return fmt.Errorf("rank %d (member %d): element %d of member %d's block = %d, want %d", c.Rank(), me, t, j, recv[k], want)
			}
			k++
		}
	}
	return nil
}

// runs reports whether size n runs over subset s (the big sizes run on the
// whole communicator only).
func runs(s Subset, n int) bool { return n <= Big || s.Members == nil }

// roots returns the root indices tried for a set of p members.
func roots(p, n int) []int {
	if p == 1 || n > Big {
		return []int{0}
	}
	return []int{0, p - 1}
}

// Run runs the whole suite as subtests: every algorithm of every operation
// (Default included) over Subsets, Sizes and roots, then the concurrent
// cases.
func Run(t *testing.T, x *collective.Context) {
	c := x.Comm()
	check := func(t *testing.T, err error) {
		t.Helper()
		if err != nil {
			t.Error(err)
		}
	}
	type each func(t *testing.T, alg collective.Algorithm, s Subset, p, n int)
	sweep := func(name string, algs []collective.Algorithm, f each) {
		t.Run(name, func(t *testing.T) {
			for _, alg := range append([]collective.Algorithm{collective.Default}, algs...) {
				t.Run(alg.String(), func(t *testing.T) {
					for _, s := range Subsets(c.Size()) {
						p := len(s.Members)
						if s.Members == nil {
							p = c.Size()
						}
						for _, n := range Sizes {
							if runs(s, n) {
								f(t, alg, s, p, n)
							}
						}
					}
				})
			}
		})
	}
	sweep("Bcast", collective.BcastAlgorithms, func(t *testing.T, alg collective.Algorithm, s Subset, p, n int) {
		for _, root := range roots(p, n) {
			check(t, Bcast(x, alg, s.Members, root, n))
		}
	})
	sweep("Reduce", collective.ReduceAlgorithms, func(t *testing.T, alg collective.Algorithm, s Subset, p, n int) {
		for _, root := range roots(p, n) {
			check(t, ReduceInt32(x, alg, s.Members, root, n, mpi.Sum, false))
		}
		if n == 7 || n == 1003 {
			check(t, ReduceInt32(x, alg, s.Members, p/2, n, mpi.Prod, false))
			check(t, ReduceInt32(x, alg, s.Members, 0, n, mpi.Max, false))
		}
	})
	sweep("Allreduce", collective.AllreduceAlgorithms, func(t *testing.T, alg collective.Algorithm, s Subset, p, n int) {
		check(t, ReduceInt32(x, alg, s.Members, 0, n, mpi.Sum, true))
		if n == 7 || n == 1003 {
			check(t, ReduceInt32(x, alg, s.Members, 0, n, mpi.Prod, true))
			check(t, ReduceInt32(x, alg, s.Members, 0, n, mpi.Min, true))
		}
		if n != 0 && n <= Big || s.Members == nil {
			check(t, AllreduceFloat64(x, alg, s.Members, n, n%2 == 1))
		}
	})
	sweep("Alltoallv", collective.AlltoallvAlgorithms, func(t *testing.T, alg collective.Algorithm, s Subset, p, n int) {
		if n <= Big {
			check(t, Alltoallv(x, alg, s.Members, n))
		}
	})
	t.Run("Concurrent", func(t *testing.T) { check(t, Concurrent(x)) })
	t.Run("SameMembersInFlight", func(t *testing.T) { check(t, SameMembersInFlight(x)) })
	t.Run("ExplicitSeq", func(t *testing.T) { check(t, ExplicitSeq(x)) })
}

// Concurrent starts operations of every kind over overlapping member sets
// at once (the Native algorithm among them), then advances them all from
// one loop that also computes, in a rank-dependent order, and checks each.
func Concurrent(x *collective.Context) error {
	c := x.Comm()
	n, me := c.Size(), c.Rank()
	sub := Subsets(n)
	const size = 5003
	type job struct {
		op    *collective.Op
		check func() error
	}
	var jobs []job
	add := func(op *collective.Op, err error, check func() error) error {
		if err != nil {
			return err
		}
		jobs = append(jobs, job{op, check})
		return nil
	}
	// 1: Bcast, binomial over the even ranks from the last.
	ev, evMe := members(sub[2].Members, n, me)
	b1 := make([]int32, size)
	if evMe == len(ev)-1 {
		for i := range b1 {
			b1[i] = I32(me, i)
		}
	}
	op, err := collective.Bcast(x, b1, collective.Spec{Members: ev, Root: len(ev) - 1, Alg: collective.Binomial})
	if err := add(op, err, func() error {
		if evMe < 0 {
			return nil
		}
		for i, v := range b1 {
			if v != I32(ev[len(ev)-1], i) {
				return fmt.Errorf("concurrent bcast: b1[%d] = %d", i, v)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// 2: Allreduce ring over all; 3: native allreduce over all; 4:
	// Rabenseifner reduce over the reversed ranks, root index 0.
	s2, r2 := make([]int32, size), make([]int32, size)
	s3, r3 := make([]int32, size), make([]int32, size)
	s4, r4 := make([]int32, size), make([]int32, size)
	for i := range s2 {
		s2[i], s3[i], s4[i] = I32(me, i), I32(me, i), I32(me, i)
	}
	all, _ := members(nil, n, me)
	rev := sub[1].Members
	sumCheck := func(name string, got []int32, list []int) func() error {
		return func() error {
			if got == nil {
				return nil
			}
			for i, v := range got {
				if want := int32(intReduce(list, mpi.Sum, i)); v != want {
					return fmt.Errorf("concurrent %s: [%d] = %d, want %d", name, i, v, want)
				}
			}
			return nil
		}
	}
	op, err = collective.Allreduce(x, s2, r2, mpi.Sum, collective.Spec{Alg: collective.Ring})
	if err := add(op, err, sumCheck("ring allreduce", r2, all)); err != nil {
		return err
	}
	op, err = collective.Allreduce(x, s3, r3, mpi.Sum, collective.Spec{Alg: collective.Native})
	if err := add(op, err, sumCheck("native allreduce", r3, all)); err != nil {
		return err
	}
	if me != rev[0] {
		r4 = nil
	}
	op, err = collective.Reduce(x, s4, r4, mpi.Sum, collective.Spec{Members: rev, Alg: collective.Rabenseifner})
	if err := add(op, err, sumCheck("rabenseifner reduce", r4, all)); err != nil {
		return err
	}
	// 5: a chain broadcast in small chunks over all from the middle.
	b5 := make([]int32, size)
	mid := n / 2
	if me == mid {
		for i := range b5 {
			b5[i] = I32(me, i)
		}
	}
	op, err = collective.Bcast(x, b5, collective.Spec{Root: mid, Alg: collective.Chain, Chunk: 64})
	if err := add(op, err, func() error {
		for i, v := range b5 {
			if v != I32(mid, i) {
				return fmt.Errorf("concurrent chain bcast: b5[%d] = %d", i, v)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	// Advance them together, in reverse order on odd ranks, with some
	// computation between rounds.
	ops := make([]*collective.Op, len(jobs))
	for i, j := range jobs {
		ops[i] = j.op
		if me%2 == 1 {
			ops[i] = jobs[len(jobs)-1-i].op
		}
	}
	deadline := time.Now().Add(Timeout)
	acc := 0.0
	for {
		done, err := collective.TestAll(ops...)
		if err != nil {
			return err
		}
		if done {
			break
		}
		for k := 0; k < 200; k++ { // "computing tasks"
			acc += math.Sqrt(float64(k))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("concurrent operations not done after %v", Timeout)
		}
	}
	_ = acc
	if x.InFlight() != 0 {
		return fmt.Errorf("%d operations still in flight after all are done", x.InFlight())
	}
	for _, j := range jobs {
		if err := j.check(); err != nil {
			return err
		}
	}
	return nil
}

// SameMembersInFlight starts three broadcasts over the same members with
// the same algorithm and different roots and data, whose messages would
// cross if the tags did not tell them apart, and advances them in a
// rank-dependent order.
func SameMembersInFlight(x *collective.Context) error {
	c := x.Comm()
	n, me := c.Size(), c.Rank()
	const size = 3001
	var ops []*collective.Op
	bufs := make([][]int32, 3)
	for k := range bufs {
		bufs[k] = make([]int32, size)
		root := (k * 2) % n
		if me == root {
			for i := range bufs[k] {
				bufs[k][i] = I32(root, i) + int32(k)
			}
		}
		alg := []collective.Algorithm{collective.Binomial, collective.ScatterAllgather, collective.Chain}[k%3]
		op, err := collective.Bcast(x, bufs[k], collective.Spec{Root: root, Alg: alg, Chunk: 500})
		if err != nil {
			return err
		}
		ops = append(ops, op)
	}
	if me%2 == 1 {
		ops[0], ops[2] = ops[2], ops[0]
	}
	if err := collective.WaitAll(ops...); err != nil {
		return err
	}
	for k, b := range bufs {
		root := (k * 2) % n
		for i, v := range b {
			if want := I32(root, i) + int32(k); v != want {
				return fmt.Errorf("rank %d: broadcast %d: [%d] = %d, want %d", me, k, i, v, want)
			}
		}
	}
	return nil
}

// ExplicitSeq runs operations numbered by the caller, which only their
// members call: an allreduce over the even ranks and one over the odd ranks
// at once, then one over all.
func ExplicitSeq(x *collective.Context) error {
	c := x.Comm()
	n, me := c.Size(), c.Rank()
	sub := Subsets(n)
	var ops []*collective.Op
	var checks []func() error
	for k, s := range []Subset{sub[2], {"odd", oddOf(n)}, sub[0]} {
		list, idx := members(s.Members, n, me)
		if idx < 0 || len(list) == 0 {
			continue
		}
		send, recv := make([]int32, 777), make([]int32, 777)
		for i := range send {
			send[i] = I32(me, i)
		}
		op, err := collective.Allreduce(x, send, recv, mpi.Sum, collective.Spec{Members: list, Seq: 1<<40 + uint64(k), Alg: collective.RecursiveDoubling})
		if err != nil {
			return err
		}
		if op.Seq() != 1<<40+uint64(k) {
			return fmt.Errorf("op.Seq() = %d, want %d", op.Seq(), 1<<40+uint64(k))
		}
		ops = append(ops, op)
		checks = append(checks, func() error {
			for i, v := range recv {
				if want := int32(intReduce(list, mpi.Sum, i)); v != want {
					return fmt.Errorf("rank %d: explicit seq %d over %v: [%d] = %d, want %d", me, k, list, i, v, want)
				}
			}
			return nil
		})
	}
	if err := collective.WaitAll(ops...); err != nil {
		return err
	}
	for _, f := range checks {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func oddOf(n int) []int {
	var o []int
	for r := 1; r < n; r += 2 {
		o = append(o, r)
	}
	return o
}
