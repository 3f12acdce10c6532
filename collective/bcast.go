package collective

import (
	"fmt"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// Bcast starts a broadcast of the root member's buf to every member's buf.
// Every member passes a buffer of the same length (a shorter or longer one
// is an ErrLength or truncation error where a message shows it). Every rank
// of the communicator makes the call when s.Seq is zero (see the package
// documentation); non-members get an Op that is already done.
//
// Algorithms: Binomial, Chain (Spec.Chunk elements per message),
// ScatterAllgather, Native. Default is Binomial up to 16 KiB or 2 members,
// ScatterAllgather above.
func Bcast[T mpi.Elem](x *Context, buf []T, s Spec) (*Op, error) {
	const call = "Bcast"
	seq := x.seq(&s)
	g, err := x.checkGroup(call, &s, true)
	if err != nil {
		return nil, err
	}
	alg := s.Alg
	if alg == Default {
		alg = pickBcast(len(buf)*int(unsafe.Sizeof(*new(T))), g.size())
	}
	if !supports(BcastAlgorithms, alg) {
		return nil, fmt.Errorf("%w: %s does not implement %s (one of %v)", ErrAlgorithm, alg, call, BcastAlgorithms)
	}
	return newOp(x, call+"("+alg.String()+")", seq, &g, func(o *Op) (stepper, error) {
		if alg == Native {
			c, err := x.sub(&g)
			if err != nil {
				return nil, err
			}
			r, err := mpi.Ibcast(c, buf, g.root)
			return &nativeOp{r}, err
		}
		sc := newSched[T](o)
		switch alg {
		case Binomial:
			bcastBinomial(sc, &g, buf)
		case Chain:
			bcastChain(sc, &g, buf, chunkElems[T](s.Chunk))
		case ScatterAllgather:
			bcastScatterAllgather(sc, &g, buf)
		}
		return sc.done(), nil
	})
}

func chunkElems[T any](chunk int) int {
	if chunk > 0 {
		return chunk
	}
	if n := defaultChunkBytes / int(unsafe.Sizeof(*new(T))); n > 0 {
		return n
	}
	return 1
}

// rel maps indices relative to the root (the root is 0) to communicator
// ranks.
type rel struct {
	g *group
	v int // this member's relative index
}

func relOf(g *group) rel { return rel{g, (g.me - g.root + g.size()) % g.size()} }

func (r rel) rank(v int) int { return r.g.ranks[(v+r.g.root)%r.g.size()] }

// bcastBinomial: member v (relative to the root) receives from v minus its
// lowest set bit, then sends to v+2^k for every 2^k below that bit, largest
// first.
func bcastBinomial[T mpi.Elem](s *sched[T], g *group, buf []T) {
	p, r := g.size(), relOf(g)
	mask := 1
	for mask < p {
		if r.v&mask != 0 {
			s.recv(r.rank(r.v-mask), buf)
			s.wait()
			break
		}
		mask <<= 1
	}
	for mask >>= 1; mask > 0; mask >>= 1 {
		if r.v+mask < p {
			s.send(r.rank(r.v+mask), buf)
		}
	}
	s.wait()
}

// bcastChain: a pipeline root -> 1 -> 2 -> ... in chunks; a member posts
// every receive at once and forwards chunk k as soon as it has arrived.
func bcastChain[T mpi.Elem](s *sched[T], g *group, buf []T, chunk int) {
	p, r := g.size(), relOf(g)
	if p == 1 {
		return
	}
	n := len(buf)
	nch := max(1, (n+chunk-1)/chunk)
	part := func(k int) []T { return buf[min(k*chunk, n):min((k+1)*chunk, n)] }
	if r.v == 0 {
		for k := range nch {
			s.send(r.rank(1), part(k))
		}
		s.waitAll()
		return
	}
	first := len(s.want)
	for k := range nch {
		s.recv(r.rank(r.v-1), part(k))
	}
	for k := range nch {
		s.waitOne(first + k)
		if r.v+1 < p {
			s.send(r.rank(r.v+1), part(k))
		}
	}
	s.waitAll()
}

// bcastScatterAllgather: block b of p (relative index b) goes down a
// binomial tree to member b, whose subtree's blocks are contiguous; then p-1
// ring steps pass the blocks round.
func bcastScatterAllgather[T mpi.Elem](s *sched[T], g *group, buf []T) {
	p, r := g.size(), relOf(g)
	if p == 1 {
		return
	}
	n := len(buf)
	blocks := func(a, b int) []T { return buf[blockOff(n, p, a):blockOff(n, p, min(b, p))] }
	mask := 1
	for mask < p {
		if r.v&mask != 0 {
			s.recv(r.rank(r.v-mask), blocks(r.v, r.v+mask))
			s.wait()
			break
		}
		mask <<= 1
	}
	for mask >>= 1; mask > 0; mask >>= 1 {
		if c := r.v + mask; c < p {
			s.send(r.rank(c), blocks(c, c+mask))
		}
	}
	s.wait()
	left, right := r.rank((r.v-1+p)%p), r.rank((r.v+1)%p)
	for k := 0; k < p-1; k++ {
		sb, rb := (r.v-k+p)%p, (r.v-k-1+2*p)%p
		s.send(right, blocks(sb, sb+1))
		s.recv(left, blocks(rb, rb+1))
		s.wait()
	}
}
