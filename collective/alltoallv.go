package collective

import (
	"fmt"

	"github.com/spmd-go/spmd/mpi"
)

// Alltoallv starts an exchange in which member i sends sendCounts[j]
// elements of send, from sendDispls[j], to member j, and receives
// recvCounts[j] elements from member j into recv at recvDispls[j]. The
// arrays are indexed by member index and have one entry per member; nil
// displacements pack the blocks in member order. recvCounts[j] on member i
// must equal sendCounts[i] on member j (a difference is an ErrLength or a
// truncation error). The call rule is Bcast's.
//
// Algorithms: Direct (every receive and send posted at once, the sends
// starting with the member after this one so that no member is everyone's
// first target), Native. Default is Direct.
func Alltoallv[T mpi.Elem](x *Context, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int, s Spec) (*Op, error) {
	const call = "Alltoallv"
	seq := x.seq(&s)
	g, err := x.checkGroup(call, &s, false)
	if err != nil {
		return nil, err
	}
	alg := s.Alg
	if alg == Default {
		alg = Direct
	}
	if !supports(AlltoallvAlgorithms, alg) {
		return nil, fmt.Errorf("%w: %s does not implement %s (one of %v)", ErrAlgorithm, alg, call, AlltoallvAlgorithms)
	}
	var sd, rd []int
	if g.me >= 0 {
		p := g.size()
		if sd, err = layout(call, "send", p, sendCounts, sendDispls, len(send)); err != nil {
			return nil, err
		}
		if rd, err = layout(call, "recv", p, recvCounts, recvDispls, len(recv)); err != nil {
			return nil, err
		}
		if sendCounts[g.me] != recvCounts[g.me] {
			return nil, fmt.Errorf("%w: %s: member %d sends itself %d elements but expects %d", ErrLength, call, g.me, sendCounts[g.me], recvCounts[g.me])
		}
	}
	return newOp(x, call+"("+alg.String()+")", seq, &g, func(o *Op) (stepper, error) {
		if alg == Native {
			c, err := x.sub(&g)
			if err != nil {
				return nil, err
			}
			r, err := mpi.Ialltoallv(c, send, sendCounts, sd, recv, recvCounts, rd)
			return &nativeOp{r}, err
		}
		sc := newSched[T](o)
		p := g.size()
		for k := 1; k < p; k++ {
			j := (g.me - k + p) % p
			sc.recv(g.ranks[j], recv[rd[j]:rd[j]+recvCounts[j]])
		}
		for k := 1; k < p; k++ {
			j := (g.me + k) % p
			sc.send(g.ranks[j], send[sd[j]:sd[j]+sendCounts[j]])
		}
		sc.copy(recv[rd[g.me]:rd[g.me]+recvCounts[g.me]], send[sd[g.me]:sd[g.me]+sendCounts[g.me]])
		sc.wait()
		return sc.done(), nil
	})
}

// layout checks one side's counts and displacements against a buffer of n
// elements and returns the displacements (packed when displs is nil).
func layout(call, side string, p int, counts, displs []int, n int) ([]int, error) {
	if len(counts) != p {
		return nil, fmt.Errorf("%w: %s: len(%sCounts) = %d, want one per member (%d)", ErrLength, call, side, len(counts), p)
	}
	if displs != nil && len(displs) != p {
		return nil, fmt.Errorf("%w: %s: len(%sDispls) = %d, want one per member (%d)", ErrLength, call, side, len(displs), p)
	}
	out := make([]int, p)
	off := 0
	for j, c := range counts {
		d := off
		if displs != nil {
			d = displs[j]
		}
		if c < 0 || d < 0 || d+c > n {
			return nil, fmt.Errorf("%w: %s: %sCounts[%d] = %d at displacement %d does not fit a buffer of %d elements", ErrLength, call, side, j, c, d, n)
		}
		out[j] = d
		off = d + c
	}
	return out, nil
}
