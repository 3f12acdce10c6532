package cases

import (
	"fmt"
	"math"
	"strings"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/dagmpi"
)

// TranTol bounds |C - (beta C0 + alpha Aᵀ)| entrywise in units of
// eps (|alpha a| + |beta c0|): one product, or two products and a sum,
// each rounded (4 leaves room for a fused multiply-add either side).
const TranTol = 4

func init() {
	Register(Case{Name: "tran/transpose", Pruned: true, Run: tranCase})
	Register(Case{Name: "tran/errors", Run: tranErrors})
}

// tranCase checks Transpose on every layout (onto TransposedDist's layout,
// which must keep every tile on its rank, and onto the same layout when
// it deals any tile grid) exactly, and Tran's C = beta C + alpha Aᵀ with
// C on another grid, with beta = 0 (C not read: NaN there must not
// survive) and beta != 0.
func tranCase(rt *dagmpi.Runtime) error {
	for _, s := range Shapes {
		mt, nt := (s.M+s.MB-1)/s.MB, (s.N+s.NB-1)/s.NB
		for _, d := range Layouts(rt.Size(), mt, nt) {
			a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, d, Element)
			if err != nil {
				return err
			}
			dists := []bc.Distribution{nil}
			if _, ok := d.(bc.Cyclic2D); ok {
				dists = append(dists, d) // B on A's own grid
			}
			for _, bd := range dists {
				where := fmt.Sprintf("Transpose %v on %T%+v, B on %v", s, d, d, bd)
				b, err := bc.Transpose(a, bd)
				if err != nil {
					return fmt.Errorf("%s: %w", where, err)
				}
				if bm, bn := b.Dims(); bm != s.N || bn != s.M {
					return fmt.Errorf("%s: B is %d x %d, want %d x %d", where, bm, bn, s.N, s.M)
				}
				if mb, nb := b.BlockSize(); mb != s.NB || nb != s.MB {
					return fmt.Errorf("%s: B has %d x %d tiles, want %d x %d", where, mb, nb, s.NB, s.MB)
				}
				if bd == nil {
					for j := 0; j < nt; j++ {
						for i := 0; i < mt; i++ {
							if b.Owner(j, i) != a.Owner(i, j) {
								return fmt.Errorf("%s: B's tile (%d, %d) is on rank %d, A's tile (%d, %d) on %d: TransposedDist moved it", where, j, i, b.Owner(j, i), i, j, a.Owner(i, j))
							}
						}
					}
				}
				got, err := b.Gather(0)
				if err != nil {
					return err
				}
				if rt.Rank() != 0 || s.M == 0 || s.N == 0 {
					continue
				}
				for i := 0; i < s.N; i++ {
					for j := 0; j < s.M; j++ {
						if got.At(i, j) != Element(j, i) {
							return fmt.Errorf("%s: B(%d, %d) = %v, want A(%d, %d) = %v", where, i, j, got.At(i, j), j, i, Element(j, i))
						}
					}
				}
			}
		}
	}
	// Tran with alpha and beta, C on another grid.
	grids := Grids(rt.Size())
	c0 := func(i, j int) float64 { return hash01(i, j, 31) * 1000 }
	nan := func(i, j int) float64 { return math.NaN() }
	for si, s := range Shapes {
		g, gc := grids[si%len(grids)], grids[(si+1)%len(grids)]
		for _, ab := range [][2]float64{{-2.5, 0}, {0.5, 3}, {1, -1}} {
			alpha, beta := ab[0], ab[1]
			where := fmt.Sprintf("Tran(%v, A %v on %+v, %v, C on %+v)", alpha, s, g, beta, gc)
			a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, g, Element)
			if err != nil {
				return err
			}
			cf := c0
			if beta == 0 {
				cf = nan
			}
			c, err := bc.NewMatrixFunc(rt, s.N, s.M, s.NB, s.MB, gc, cf)
			if err != nil {
				return err
			}
			if err := bc.Tran(alpha, a, beta, c); err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			got, err := c.Gather(0)
			if err != nil {
				return err
			}
			if rt.Rank() != 0 || s.M == 0 || s.N == 0 {
				continue
			}
			for i := 0; i < s.N; i++ {
				for j := 0; j < s.M; j++ {
					av, cv := alpha*Element(j, i), 0.0
					if beta != 0 {
						cv = beta * c0(i, j)
					}
					if d := math.Abs(got.At(i, j) - (av + cv)); !(d <= TranTol*eps*(math.Abs(av)+math.Abs(cv))) {
						return fmt.Errorf("%s: C(%d, %d) = %v, want %v", where, i, j, got.At(i, j), av+cv)
					}
				}
			}
		}
	}
	return nil
}

// tranErrors checks that misuse of Tran and Transpose is an error naming
// what is wrong, on every rank, before any task is submitted.
func tranErrors(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	a, err := bc.NewMatrix(rt, 4, 6, 2, 2, g)
	if err != nil {
		return err
	}
	b, err := bc.NewMatrix(rt, 6, 2, 2, 1, g)
	if err != nil {
		return err
	}
	cWrong, err := bc.NewMatrix(rt, 6, 4, 3, 2, g) // 6 x 4 but 3 x 2 tiles
	if err != nil {
		return err
	}
	alien, closeAlien, err := alienMatrix(6, 4, 2, 2)
	if err != nil {
		return err
	}
	defer closeAlien()
	for _, tc := range []struct {
		what string
		err  error
		want []string // substrings the message must have
	}{
		{"Tran nil A", bc.Tran(1, nil, 0, cWrong), []string{"nil matrix A"}},
		{"Tran nil C", bc.Tran(1, a, 0, nil), []string{"nil matrix C"}},
		{"Tran C of A's shape", bc.Tran(1, a, 0, b), []string{"A is 4 x 6", "C is 6 x 2", "6 x 4 in 2 x 2 tiles"}},
		{"Tran C's tiles", bc.Tran(1, a, 0, cWrong), []string{"3 x 2 tiles", "6 x 4 in 2 x 2 tiles"}},
		{"Tran other Runtime", bc.Tran(1, a, 0, alien), []string{"different Runtimes"}},
	} {
		if tc.err == nil {
			return fmt.Errorf("%s: no error", tc.what)
		}
		for _, s := range tc.want {
			if !strings.Contains(tc.err.Error(), s) {
				return fmt.Errorf("%s: error %q does not say %q", tc.what, tc.err, s)
			}
		}
	}
	if _, err := bc.Transpose(nil, nil); err == nil {
		return fmt.Errorf("Transpose(nil): no error")
	}
	big := must(bc.NewCyclic2D(rt.Size()+1, 1, bc.RowMajor, 0, 0))
	if _, err := bc.Transpose(a, big); err == nil || !strings.Contains(err.Error(), "grid larger") {
		return fmt.Errorf("Transpose onto a grid of %d ranks on %d: error %v, want one about the grid", rt.Size()+1, rt.Size(), err)
	}
	return rt.Wait()
}
