package collective

import (
	"fmt"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// Allreduce starts a reduction of every member's send with op into every
// member's recv. send and recv have the same length on every member; they
// may be the same slice (in place) but must not otherwise overlap. Every
// member ends with the same bits, whatever the algorithm (each element is
// combined in one order, then copied). The call rule is Bcast's.
//
// Algorithms: Ring, RecursiveDoubling, Rabenseifner, Native. Default is
// RecursiveDoubling up to 16 KiB or 2 members, Rabenseifner above.
func Allreduce[T mpi.Elem](x *Context, send, recv []T, op mpi.Op, s Spec) (*Op, error) {
	return reduce(x, "Allreduce", send, recv, op, s, true)
}

// Reduce starts a reduction of every member's send with op into the root
// member's recv, which has len(send) elements (recv is ignored, and may be
// nil, elsewhere). The call rule is Bcast's.
//
// Algorithms: Binomial, Ring (reduce-scatter, then the blocks go to the
// root), RecursiveDoubling (an allreduce whose result only the root keeps),
// Rabenseifner (halving reduce-scatter, then the blocks go to the root),
// Native. Default is Binomial up to 16 KiB or 2 members, Rabenseifner above.
func Reduce[T mpi.Elem](x *Context, send, recv []T, op mpi.Op, s Spec) (*Op, error) {
	return reduce(x, "Reduce", send, recv, op, s, false)
}

func reduce[T mpi.Elem](x *Context, call string, send, recv []T, op mpi.Op, s Spec, all bool) (*Op, error) {
	seq := x.seq(&s)
	g, err := x.checkGroup(call, &s, !all)
	if err != nil {
		return nil, err
	}
	n := len(send)
	alg, list := s.Alg, ReduceAlgorithms
	if all {
		list = AllreduceAlgorithms
		if alg == Default {
			alg = pickAllreduce(n*int(unsafe.Sizeof(*new(T))), g.size())
		}
	} else if alg == Default {
		alg = pickReduce(n*int(unsafe.Sizeof(*new(T))), g.size())
	}
	if !supports(list, alg) {
		return nil, fmt.Errorf("%w: %s does not implement %s (one of %v)", ErrAlgorithm, alg, call, list)
	}
	comb, err := combiner[T](op)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", call, err)
	}
	isRoot := g.me >= 0 && (all || g.me == g.root)
	if isRoot && len(recv) != n {
		return nil, fmt.Errorf("%w: %s: len(recv) = %d, want len(send) = %d", ErrLength, call, len(recv), n)
	}
	same := isRoot && n > 0 && unsafe.SliceData(send) == unsafe.SliceData(recv)
	return newOp(x, call+"("+alg.String()+")", seq, &g, func(o *Op) (stepper, error) {
		if alg == Native {
			c, err := x.sub(&g)
			if err != nil {
				return nil, err
			}
			var r mpi.Request
			switch {
			case all && same:
				r, err = mpi.IallreduceInPlace(c, recv, op)
			case all:
				r, err = mpi.Iallreduce(c, send, recv, op)
			default:
				if !isRoot {
					recv = nil
				} else if same { // MPI has no in-place Ireduce here: copy
					send = append([]T(nil), send...)
				}
				r, err = mpi.Ireduce(c, send, recv, op, g.root)
			}
			return &nativeOp{r}, err
		}
		sc := newSched[T](o)
		sc.comb = comb
		work := recv
		if !isRoot {
			work = nil
		}
		// Binomial leaves send straight from send; everyone else works on
		// a copy (recv where it holds the result).
		leaf := alg == Binomial && relOf(&g).v%2 == 1
		if !leaf {
			if work == nil {
				work = sc.temp(n)
			}
			copy(work, send)
		}
		switch alg {
		case Binomial:
			if leaf {
				work = send
			}
			reduceBinomial(sc, &g, work)
		case Ring:
			ringReduceScatter(sc, &g, work)
			if all {
				ringAllgather(sc, &g, work)
			} else {
				ringGather(sc, &g, work)
			}
		case RecursiveDoubling:
			f := foldIn(sc, &g, work)
			f.recursiveDoubling(sc, work)
			f.foldOut(sc, work, all)
		case Rabenseifner:
			f := foldIn(sc, &g, work)
			f.halvingReduceScatter(sc, work)
			if all {
				f.doublingAllgather(sc, work)
				f.foldOut(sc, work, true)
			} else {
				f.gather(sc, work)
			}
		}
		return sc.done(), nil
	})
}

// reduceBinomial: member v (relative to the root) combines what its
// children v+1, v+2, v+4, ... send (those below its lowest set bit), then
// sends the sum to its parent.
func reduceBinomial[T mpi.Elem](s *sched[T], g *group, work []T) {
	p, r := g.size(), relOf(g)
	var tmp []T
	for mask := 1; mask < p; mask <<= 1 {
		if r.v&mask != 0 {
			s.send(r.rank(r.v-mask), work)
			s.wait()
			return
		}
		if r.v+mask < p {
			if tmp == nil {
				tmp = s.temp(len(work))
			}
			s.recv(r.rank(r.v+mask), tmp)
			s.wait()
			s.combine(work, tmp)
		}
	}
}

// ring is the ring of members by index with p blocks of the vector.
type ring[T any] struct {
	p, me       int
	left, right int
	n           int
}

func ringOf[T any](g *group, n int) ring[T] {
	p := g.size()
	return ring[T]{p: p, me: g.me, left: g.ranks[(g.me-1+p)%p], right: g.ranks[(g.me+1)%p], n: n}
}

func (r ring[T]) blk(work []T, b int) []T {
	b = ((b % r.p) + r.p) % r.p
	return work[blockOff(r.n, r.p, b):blockOff(r.n, r.p, b+1)]
}

// ringReduceScatter: in step k member i sends block i-k to the right and
// combines block i-k-1 from the left; after p-1 steps it holds block i+1
// reduced over every member.
func ringReduceScatter[T mpi.Elem](s *sched[T], g *group, work []T) {
	r := ringOf[T](g, len(work))
	if r.p == 1 {
		return
	}
	tmp := s.temp(blockOff(r.n, r.p, 1) + 1)
	for k := 0; k < r.p-1; k++ {
		rb := r.blk(work, r.me-k-1)
		s.send(r.right, r.blk(work, r.me-k))
		s.recv(r.left, tmp[:len(rb)])
		s.wait()
		s.combine(rb, tmp[:len(rb)])
	}
}

// ringAllgather passes the reduced blocks round: in step k member i sends
// block i+1-k and receives block i-k.
func ringAllgather[T mpi.Elem](s *sched[T], g *group, work []T) {
	r := ringOf[T](g, len(work))
	for k := 0; k < r.p-1; k++ {
		s.send(r.right, r.blk(work, r.me+1-k))
		s.recv(r.left, r.blk(work, r.me-k))
		s.wait()
	}
}

// ringGather sends each member's reduced block (block i+1 on member i) to
// the root.
func ringGather[T mpi.Elem](s *sched[T], g *group, work []T) {
	r := ringOf[T](g, len(work))
	if r.p == 1 {
		return
	}
	if g.me != g.root {
		s.send(g.ranks[g.root], r.blk(work, r.me+1))
	} else {
		for i := 0; i < r.p; i++ {
			if i != g.me {
				s.recv(g.ranks[i], r.blk(work, i+1))
			}
		}
	}
	s.wait()
}

// fold handles member counts p that are not powers of two: with p2 the
// largest power of two not above p and rem = p - p2, member 2j (j < rem)
// sends its vector to member 2j+1 and sits out; the p2 remaining members
// are renumbered 0..p2-1 (nr) and run the power-of-two algorithm.
type fold[T mpi.Elem] struct {
	g       *group
	p2, rem int
	nr      int // -1 when sitting out
	tmp     []T
}

func foldIn[T mpi.Elem](s *sched[T], g *group, work []T) *fold[T] {
	p := g.size()
	p2 := 1
	for p2*2 <= p {
		p2 *= 2
	}
	f := &fold[T]{g: g, p2: p2, rem: p - p2, nr: g.me - (p - p2)}
	if p2 > 1 || f.rem > 0 {
		f.tmp = s.temp(len(work))
	}
	if g.me < 2*f.rem {
		if g.me%2 == 0 {
			s.send(g.ranks[g.me+1], work)
			s.wait()
			f.nr = -1
		} else {
			s.recv(g.ranks[g.me-1], f.tmp)
			s.wait()
			s.combine(work, f.tmp)
			f.nr = g.me / 2
		}
	}
	return f
}

// rank returns the communicator rank of renumbered member nr.
func (f *fold[T]) rank(nr int) int {
	if nr < f.rem {
		return f.g.ranks[2*nr+1]
	}
	return f.g.ranks[nr+f.rem]
}

// foldOut returns the result to the members that sat out (all of them, or
// only the root when all is false).
func (f *fold[T]) foldOut(s *sched[T], work []T, all bool) {
	me := f.g.me
	if me >= 2*f.rem {
		return
	}
	if me%2 == 1 && (all || me-1 == f.g.root) {
		s.send(f.g.ranks[me-1], work)
	} else if me%2 == 0 && (all || me == f.g.root) {
		s.recv(f.g.ranks[me+1], work)
	}
	s.wait()
}

// recursiveDoubling: log2 p2 exchanges of the whole vector with the
// partner nr^1, nr^2, nr^4, ...
func (f *fold[T]) recursiveDoubling(s *sched[T], work []T) {
	if f.nr < 0 {
		return
	}
	for mask := 1; mask < f.p2; mask <<= 1 {
		peer := f.rank(f.nr ^ mask)
		s.send(peer, work)
		s.recv(peer, f.tmp)
		s.wait()
		s.combine(work, f.tmp)
	}
}

func (f *fold[T]) blocks(work []T, a, b int) []T {
	return work[blockOff(len(work), f.p2, a):blockOff(len(work), f.p2, b)]
}

// halvingReduceScatter: with the vector cut into p2 blocks, in the step of
// distance m the member keeps the half of its current range on its side of
// bit m, sends the other half to nr^m and combines the half it keeps; it
// ends with block nr reduced over every member.
func (f *fold[T]) halvingReduceScatter(s *sched[T], work []T) {
	if f.nr < 0 {
		return
	}
	lo, hi := 0, f.p2
	for mask := f.p2 / 2; mask >= 1; mask /= 2 {
		mid := lo + mask
		klo, khi, slo, shi := lo, mid, mid, hi
		if f.nr&mask != 0 {
			klo, khi, slo, shi = mid, hi, lo, mid
		}
		keep := f.blocks(work, klo, khi)
		peer := f.rank(f.nr ^ mask)
		s.send(peer, f.blocks(work, slo, shi))
		s.recv(peer, f.tmp[:len(keep)])
		s.wait()
		s.combine(keep, f.tmp[:len(keep)])
		lo, hi = klo, khi
	}
}

// doublingAllgather: in the step of distance m the member swaps its m
// reduced blocks with nr^m's.
func (f *fold[T]) doublingAllgather(s *sched[T], work []T) {
	if f.nr < 0 {
		return
	}
	for mask := 1; mask < f.p2; mask <<= 1 {
		mine := f.nr &^ (mask - 1)
		theirs := mine ^ mask
		peer := f.rank(f.nr ^ mask)
		s.send(peer, f.blocks(work, mine, mine+mask))
		s.recv(peer, f.blocks(work, theirs, theirs+mask))
		s.wait()
	}
}

// gather sends each renumbered member's block nr to the root.
func (f *fold[T]) gather(s *sched[T], work []T) {
	root := f.g.ranks[f.g.root]
	if f.g.me != f.g.root {
		if f.nr >= 0 {
			s.send(root, f.blocks(work, f.nr, f.nr+1))
		}
	} else {
		for b := 0; b < f.p2; b++ {
			if b != f.nr {
				s.recv(f.rank(b), f.blocks(work, b, b+1))
			}
		}
	}
	s.wait()
}
