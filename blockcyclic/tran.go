package blockcyclic

import (
	"fmt"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Tran computes C = beta C + alpha Aᵀ for the m x n matrix a and the n x m
// matrix c, as PBLAS PDTRAN. C's tiles are A's transposed: C has
// NB x MB tiles for A's MB x NB (its tile (j, i) is the transpose of A's
// tile (i, j)); C may have any distribution on A's Runtime. With beta = 0,
// C is not read (NaN there does not propagate, as in BLAS).
//
// It is collective and only submits tasks, one per tile: tile (j, i) of C
// is computed on its owner from A's tile (i, j), which the runtime moves
// there (owner computes; pruned like the other routines). A layout made by
// TransposedDist for C keeps every tile on its rank and moves nothing.
func Tran(alpha float64, a *Matrix, beta float64, c *Matrix) error {
	if a == nil {
		return fmt.Errorf("blockcyclic: Tran: nil matrix A")
	}
	if c == nil {
		return fmt.Errorf("blockcyclic: Tran: nil matrix C")
	}
	if c.rt != a.rt {
		return fmt.Errorf("blockcyclic: Tran: A and C belong to different Runtimes")
	}
	if c.m != a.n || c.n != a.m || c.mb != a.nb || c.nb != a.mb {
		return fmt.Errorf("blockcyclic: Tran: A is %d x %d in %d x %d tiles, C is %d x %d in %d x %d tiles: C needs to be %d x %d in %d x %d tiles",
			a.m, a.n, a.mb, a.nb, c.m, c.n, c.mb, c.nb, a.n, a.m, a.nb, a.mb)
	}
	for j := 0; j < a.nt; j++ {
		for i := 0; i < a.mt; i++ {
			src, dst := tileRef{a, i, j}, tileRef{c, j, i}
			body := func(t *dagmpi.Task) error {
				s, lds := src.buf(t)
				d, ldd := dst.buf(t)
				m, n := a.TileDims(src.i, src.j)
				kernels.Tran(m, n, alpha, s, lds, beta, d, ldd)
				return nil
			}
			if beta != 0 {
				if err := submitTile(dst, []tileRef{src}, 0, "tran", body); err != nil {
					return err
				}
				continue
			}
			// C is not read: write its tile without fetching the old one.
			if out, err := prunedOut(dst, src); out || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			owner := c.Owner(j, i)
			if err := a.rt.Submit(body, c.Tile(j, i).Write(), a.Tile(i, j).Read(), dagmpi.OnRank(owner), dagmpi.Name("tran")); err != nil {
				return err
			}
		}
	}
	return nil
}

// Transpose returns a new matrix B = Aᵀ: n x m in NB x MB tiles (A's
// tiles transposed, tile (j, i) of B from tile (i, j) of A) distributed by
// dist. A nil dist means TransposedDist(a.Dist()): every tile of B lives
// where the tile of A it comes from lives, so nothing moves and each rank
// transposes its own tiles (ScaLAPACK's P x Q grid becomes Q x P). Pass
// a.Dist() itself for B on the same grid as A (a ScaLAPACK user's PDTRAN
// into a matrix of the same context), or any other layout; tiles then move
// to their new owners. It is collective and only submits tasks (see Tran).
func Transpose(a *Matrix, dist Distribution) (*Matrix, error) {
	if a == nil {
		return nil, fmt.Errorf("blockcyclic: Transpose: nil matrix A")
	}
	if dist == nil {
		dist = TransposedDist(a.dist)
	}
	b, err := NewMatrix(a.rt, a.n, a.m, a.nb, a.mb, dist)
	if err != nil {
		return nil, fmt.Errorf("blockcyclic: Transpose: %w", err)
	}
	if err := Tran(1, a, 0, b); err != nil {
		return nil, err
	}
	return b, nil
}

// TransposedDist returns the layout of the transposed tile grid that keeps
// every tile on its rank: its Owner(i, j) is d.Owner(j, i), and its
// LocalBlock(i, j) is d.LocalBlock(j, i) swapped, so the local blocks of
// Aᵀ are the transposes of A's. For the layouts of this package it is one
// of them: a Cyclic2D over P x Q becomes a Cyclic2D over Q x P with the
// other rank order and the sources swapped (so ScaLAPACK routines still
// take it), a Cyclic3D likewise layer by layer, a Block2D over P x Q with
// mt x nt blocks a Block2D over Q x P with nt x mt blocks, a 1D layout
// the same one along the other axis, and SBC, which is symmetric, itself.
// Other Distributions are wrapped.
func TransposedDist(d Distribution) Distribution {
	switch d := d.(type) {
	case nil:
		return nil
	case Cyclic2D:
		return Cyclic2D{p: d.q, q: d.p, order: otherOrder(d.order), rsrc: d.csrc, csrc: d.rsrc}
	case Cyclic3D:
		c := TransposedDist(d.c).(Cyclic2D)
		return Cyclic3D{c: c, r: d.r}
	case Block2D:
		return Block2D{p: d.q, q: d.p, order: otherOrder(d.order), mt: d.nt, nt: d.mt, wr: d.wc, wc: d.wr}
	case Block1D:
		d.axis = otherAxis(d.axis)
		return d
	case Cyclic1D:
		d.axis = otherAxis(d.axis)
		return d
	case SBC:
		return d
	case transposedDist:
		return d.d
	}
	return transposedDist{d}
}

func otherOrder(o Order) Order {
	if o == RowMajor {
		return ColMajor
	}
	return RowMajor
}

func otherAxis(a Axis) Axis {
	if a == ByRows {
		return ByCols
	}
	return ByRows
}

// transposedDist is TransposedDist of a Distribution this package does not
// know.
type transposedDist struct{ d Distribution }

func (t transposedDist) Owner(i, j int) int { return t.d.Owner(j, i) }

func (t transposedDist) LocalBlock(i, j int) (li, lj int) {
	lj, li = t.d.LocalBlock(j, i)
	return li, lj
}

func (t transposedDist) Size() int { return t.d.Size() }
