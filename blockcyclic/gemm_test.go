package blockcyclic_test

import (
	"sync"
	"testing"

	"gonum.org/v1/gonum/blas"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/internal/cases"
	"github.com/spmd-go/spmd/dagmpi"
)

// gemmTransfers returns the bytes each of size ranks must send for C = A B
// with n x n matrices of nb x nb tiles, A, B and C all distributed by c3
// (a 2D grid when R = 1): every tile moves once to every other rank that
// reads it (SUMMA per layer), and with R > 1 each layer but the first
// sends its partial C once in the reduction tree.
func gemmTransfers(size, n, nb int, c3 bc.Cyclic3D) []int64 {
	sent := make([]int64, size)
	nt := (n + nb - 1) / nb
	tile := func(i, j int) int64 { return int64(min(nb, n-i*nb)*min(nb, n-j*nb)) * 8 }
	_, _, r := c3.Grid()
	layers := min(r, nt)
	per := c3.Layer().Size()
	type key struct{ mat, i, j, dest int }
	seen := map[key]bool{}
	move := func(k key, from int, bytes int64) {
		if from != k.dest && !seen[k] {
			seen[k] = true
			sent[from] += bytes
		}
	}
	for l := 0; l < layers; l++ {
		for k := l * nt / layers; k < (l+1)*nt/layers; k++ {
			for j := 0; j < nt; j++ {
				for i := 0; i < nt; i++ {
					dest := l*per + c3.Owner(i, j)
					move(key{0, i, k, dest}, c3.Owner(i, k), tile(i, k))
					move(key{1, k, j, dest}, c3.Owner(k, j), tile(k, j))
				}
			}
		}
	}
	for s := 1; s < layers; s *= 2 {
		for l := s; l < layers; l += 2 * s {
			for j := 0; j < nt; j++ {
				for i := 0; i < nt; i++ {
					sent[l*per+c3.Owner(i, j)] += tile(i, j)
				}
			}
		}
	}
	return sent
}

// TestGemmBytesMoved runs SUMMA and 2.5D GEMM on 4 in-process ranks and
// checks that each rank sends exactly the bytes of the tiles it must
// (each tile, version and destination once), logging the comparison.
func TestGemmBytesMoved(t *testing.T) {
	const size, n, nb = 4, 60, 8
	type config struct {
		name string
		g    bc.Cyclic3D
		twoF bool
	}
	mk := func(p, q, r int) bc.Cyclic3D {
		g, err := bc.NewCyclic3D(p, q, r, bc.RowMajor, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	configs := []config{
		{"SUMMA 2x2", mk(2, 2, 1), false},
		{"SUMMA 1x4", mk(1, 4, 1), false},
		{"SUMMA 4x1", mk(4, 1, 1), false},
		{"2.5D 2x1x2", mk(2, 1, 2), true},
		{"2.5D 1x2x2", mk(1, 2, 2), true},
		{"2.5D 1x1x4", mk(1, 1, 4), true},
	}
	for _, pruned := range []bool{false, true} {
		for _, cf := range configs {
			var mu sync.Mutex
			got := make([]int64, size)
			c := cases.Case{Name: cf.name, Run: func(rt *dagmpi.Runtime) error {
				var dist bc.Distribution = cf.g
				if !cf.twoF {
					dist = cf.g.Layer()
				}
				p, err := cases.NewGemmProblem(rt, cases.GemmShape{M: n, N: n, K: n, MB: nb, NB: nb, KB: nb},
					blas.NoTrans, blas.NoTrans, 1, 1, dist, dist, cf.g)
				if err != nil {
					return err
				}
				if !cf.twoF {
					if p.C, err = bc.NewMatrix(rt, n, n, nb, nb, dist); err != nil {
						return err
					}
				}
				if err := rt.Wait(); err != nil {
					return err
				}
				before := rt.Stats().BytesSent
				call := bc.Gemm
				if cf.twoF {
					call = bc.Gemm25D
				}
				if err := call(blas.NoTrans, blas.NoTrans, 1, p.A, p.B, 0, p.C); err != nil {
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
			cases.InProc(t, c, size, opts...)
			want := gemmTransfers(size, n, nb, cf.g)
			var total, peak int64
			for r := range got {
				total += got[r]
				peak = max(peak, got[r])
				if got[r] != want[r] {
					t.Errorf("%s (pruned %v): rank %d sent %d bytes, want %d", cf.name, pruned, r, got[r], want[r])
				}
			}
			if !pruned {
				t.Logf("%-11s n=%d nb=%d: bytes sent per rank %v, total %d (%.2f n^2 doubles), max %d", cf.name, n, nb, got, total, float64(total)/float64(8*n*n), peak)
			}
		}
	}
}
