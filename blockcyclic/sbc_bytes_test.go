package blockcyclic_test

import (
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/internal/cases"
	"github.com/spmd-go/spmd/dagmpi"
)

// potrfTransfers returns the bytes of tiles the ranks of dist must send
// for a lower Cholesky factorization of an n x n matrix of nb x nb tiles
// (Potrf): the inverse of diagonal tile k goes once to every other owner of
// a panel tile L(i,k), and each panel tile L(m,k) goes once to every other
// owner of a tile it updates: L(m,j) for k < j <= m and L(i,m) for i > m.
func potrfTransfers(n, nb int, dist bc.Distribution) int64 {
	nt := (n + nb - 1) / nb
	size := func(i int) int64 { return int64(min(nb, n-i*nb)) }
	var sent int64
	for k := 0; k < nt; k++ {
		dests := map[int]bool{}
		for i := k + 1; i < nt; i++ {
			dests[dist.Owner(i, k)] = true
		}
		delete(dests, dist.Owner(k, k))
		sent += int64(len(dests)) * size(k) * size(k) * 8
		for m := k + 1; m < nt; m++ {
			dests := map[int]bool{}
			for j := k + 1; j <= m; j++ {
				dests[dist.Owner(m, j)] = true
			}
			for i := m + 1; i < nt; i++ {
				dests[dist.Owner(i, m)] = true
			}
			delete(dests, dist.Owner(m, k))
			sent += int64(len(dests)) * size(m) * size(k) * 8
		}
	}
	return sent
}

// TestSBCBytesMoved runs a Cholesky factorization on in-process ranks over
// SBC and over the 2D block-cyclic grids of the same number of ranks, and
// checks that each sends the tile bytes potrfTransfers predicts (plus the
// few bytes of the INFO agreement) and that SBC sends less than every 2D
// grid: at 3 ranks (basic r = 3) a panel tile goes to at most one other
// rank instead of two; at 6 ranks (basic r = 4) to two instead of three.
// At 2 ranks (extended r = 2) there is nothing to gain: both layouts put a
// block row and column on both ranks, and SBC also sends the diagonal
// tile's inverse once per step (1x2 keeps a panel on one rank), about
// 2/nt more; the test bounds that.
func TestSBCBytesMoved(t *testing.T) {
	const n, nb = 96, 6 // 16 x 16 tiles
	type config struct {
		name string
		dist bc.Distribution
	}
	mk := func(p, q int) bc.Distribution {
		d, err := bc.NewCyclic2D(p, q, bc.RowMajor, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	sbc := func(r int, ext bool) bc.Distribution {
		d, err := bc.NewSBC(r, ext)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		size   int
		sbc    config
		grids  []config
		atMost float64 // SBC total / best 2D total
	}{
		{3, config{"SBC basic r=3", sbc(3, false)}, []config{{"2D 1x3", mk(1, 3)}, {"2D 3x1", mk(3, 1)}}, 0.7},
		{6, config{"SBC basic r=4", sbc(4, false)}, []config{{"2D 2x3", mk(2, 3)}, {"2D 3x2", mk(3, 2)}}, 0.85},
		{2, config{"SBC extended r=2", sbc(2, true)}, []config{{"2D 1x2", mk(1, 2)}, {"2D 2x1", mk(2, 1)}}, 1 + 2.0/16},
	} {
		totals := map[string]int64{}
		for _, pruned := range []bool{false, true} {
			for _, cf := range append([]config{tc.sbc}, tc.grids...) {
				var mu sync.Mutex
				got := make([]int64, tc.size)
				c := cases.Case{Name: cf.name, Run: func(rt *dagmpi.Runtime) error {
					a, err := bc.NewMatrixFunc(rt, n, n, nb, nb, cf.dist, cases.SPD(n))
					if err != nil {
						return err
					}
					if err := rt.Wait(); err != nil {
						return err
					}
					before := rt.Stats().BytesSent
					if err := bc.Potrf(blas.Lower, a); err != nil {
						return err
					}
					if err := rt.Wait(); err != nil {
						return err
					}
					mu.Lock()
					got[rt.Rank()] = rt.Stats().BytesSent - before
					mu.Unlock()
					return nil
				}}
				var opts []dagmpi.Option
				if pruned {
					opts = append(opts, dagmpi.WithPruned())
				}
				cases.InProc(t, c, tc.size, opts...)
				var total int64
				for _, b := range got {
					total += b
				}
				// The INFO agreement passes 8 bytes from rank to rank and
				// gives the result to all: well under 1 KiB.
				want := potrfTransfers(n, nb, cf.dist)
				if total < want || total > want+1024 {
					t.Errorf("%s (pruned %v): %d ranks sent %d bytes in all, want the %d bytes of tiles plus under 1 KiB", cf.name, pruned, tc.size, total, want)
				}
				if !pruned {
					totals[cf.name] = total
					t.Logf("%-16s n=%d nb=%d: bytes sent per rank %v, total %d (%.2f n^2 doubles)", cf.name, n, nb, got, total, float64(total)/float64(8*n*n))
				}
			}
		}
		best := int64(-1)
		for _, g := range tc.grids {
			if best < 0 || totals[g.name] < best {
				best = totals[g.name]
			}
		}
		if s := totals[tc.sbc.name]; float64(s) > tc.atMost*float64(best) {
			t.Errorf("%s sent %d bytes, the best 2D grid %d: ratio %.2f, want at most %.2f", tc.sbc.name, s, best, float64(s)/float64(best), tc.atMost)
		}
	}
}
