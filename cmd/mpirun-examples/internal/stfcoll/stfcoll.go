// Package stfcoll builds collective operations out of dagmpi tasks, for the
// example programs: a sum reduction of per-rank Data handles along a binomial
// tree (whose result the consumers then read, which the runtime turns into a
// broadcast), and the handles of an alltoallv exchange.
//
// All functions are submission calls: every rank makes them in the same order
// with the same arguments, and they only submit tasks or create handles (they
// never block on other ranks). The reduction lives here, in one place, so that
// it can later be handed to a collective transport (package collective)
// without changing the programs that use it.
package stfcoll

import (
	"fmt"

	"github.com/spmd-go/spmd/dagmpi"
)

// ReduceSum submits the tasks of a binomial-tree sum of parts[0..P-1]
// (element-wise, float64) into parts[root], where P = rt.Size() and parts[r]
// is expected to live on rank r. At each level a rank adds the part of its
// partner to its own, so every rank runs at most log2(P) additions and
// receives at most log2(P) messages. It returns parts[root], which holds the
// sum once the tasks ran: tasks that read it on other ranks receive it (the
// broadcast half of an allreduce). The other parts are left with partial
// sums. prio is the Priority of the addition tasks and name prefixes their
// names.
//
// The order of the additions is fixed by (P, root), so the result is the
// same on every run, but it differs in rounding from a left-to-right sum.
func ReduceSum(rt *dagmpi.Runtime, parts []*dagmpi.Data[float64], root, prio int, name string) (*dagmpi.Data[float64], error) {
	p := rt.Size()
	if len(parts) != p {
		return nil, fmt.Errorf("stfcoll: ReduceSum %s: %d parts for %d ranks", name, len(parts), p)
	}
	if root < 0 || root >= p {
		return nil, fmt.Errorf("stfcoll: ReduceSum %s: root %d outside [0, %d)", name, root, p)
	}
	for r, d := range parts {
		if d.Len() != parts[0].Len() {
			return nil, fmt.Errorf("stfcoll: ReduceSum %s: part %d has %d elements, part 0 has %d", name, r, d.Len(), parts[0].Len())
		}
	}
	at := func(v int) *dagmpi.Data[float64] { return parts[(v+root)%p] }
	for mask := 1; mask < p; mask <<= 1 {
		for v := 0; v+mask < p; v += 2 * mask {
			dst, src := at(v), at(v+mask)
			err := rt.Submit(func(t *dagmpi.Task) error {
				d, s := dst.Buf(t), src.Buf(t)
				for i, x := range s {
					d[i] += x
				}
				return nil
			}, dst.ReadWrite(), src.Read(), dagmpi.OnRank((v+root)%p), dagmpi.Priority(prio), dagmpi.Name(name))
			if err != nil {
				return nil, err
			}
		}
	}
	return parts[root], nil
}

// Exchange is the set of handles of one alltoallv: Chunk[src][dst] holds
// Counts[src][dst] rows of Width float64 each, lives on rank src, and is nil
// when the count is zero. The sender's task writes its row of chunks; the
// receiver's tasks read their column, and the runtime moves the bytes.
type Exchange struct {
	Width  int
	Counts [][]int
	Chunk  [][]*dagmpi.Data[float64]
}

// NewExchange creates the handles of an alltoallv of rows of width elements
// with the given counts (P x P, the same on every rank).
func NewExchange(rt *dagmpi.Runtime, counts [][]int, width int) (*Exchange, error) {
	p := rt.Size()
	if len(counts) != p {
		return nil, fmt.Errorf("stfcoll: NewExchange: %d rows of counts for %d ranks", len(counts), p)
	}
	x := &Exchange{Width: width, Counts: counts, Chunk: make([][]*dagmpi.Data[float64], p)}
	for src := range p {
		if len(counts[src]) != p {
			return nil, fmt.Errorf("stfcoll: NewExchange: counts row %d has %d entries for %d ranks", src, len(counts[src]), p)
		}
		x.Chunk[src] = make([]*dagmpi.Data[float64], p)
		for dst, n := range counts[src] {
			if n < 0 {
				return nil, fmt.Errorf("stfcoll: NewExchange: negative count %d from rank %d to rank %d", n, src, dst)
			}
			if n == 0 {
				continue
			}
			d, err := dagmpi.NewData[float64](rt, n*width, src, nil)
			if err != nil {
				return nil, err
			}
			x.Chunk[src][dst] = d
		}
	}
	return x, nil
}

// SendArgs returns the Write accesses of rank src's chunks (the sender's
// pack task), and RecvArgs the Read accesses of rank dst's chunks.
func (x *Exchange) SendArgs(src int) []dagmpi.Arg {
	var a []dagmpi.Arg
	for _, d := range x.Chunk[src] {
		if d != nil {
			a = append(a, d.Write())
		}
	}
	return a
}

// RecvArgs returns the Read accesses of the chunks sent to rank dst.
func (x *Exchange) RecvArgs(dst int) []dagmpi.Arg {
	var a []dagmpi.Arg
	for src := range x.Chunk {
		if d := x.Chunk[src][dst]; d != nil {
			a = append(a, d.Read())
		}
	}
	return a
}
