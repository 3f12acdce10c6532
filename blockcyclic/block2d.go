package blockcyclic

import "fmt"

// Block2D is the 2D block distribution over a P x Q process grid: the mt
// block rows are cut into P contiguous bands of WR = ceil(mt / P) block rows
// and the nt block columns into Q bands of WC = ceil(nt / Q) block columns,
// ScaLAPACK-style (the last bands may be shorter, or empty). Block (i, j)
// lives on grid coordinates (i / WR, j / WC), as local block
// (i mod WR, j mod WC). Ranks are numbered on the grid in row- or
// column-major order, as for Cyclic2D.
//
// Unlike Cyclic2D it needs the number of blocks mt x nt, and block indices
// must be inside it.
//
// The zero value is not usable; make one with NewBlock2D.
type Block2D struct {
	p, q   int
	order  Order
	mt, nt int
	wr, wc int
}

var _ Distribution = Block2D{}

// NewBlock2D returns the block distribution of mt x nt blocks over a p x q
// grid whose ranks are numbered in the given order. It returns an error if p
// or q is less than 1, order is unknown, or mt or nt is negative.
func NewBlock2D(p, q int, order Order, mt, nt int) (Block2D, error) {
	switch {
	case p < 1 || q < 1:
		return Block2D{}, fmt.Errorf("blockcyclic: grid %d x %d must have positive dimensions", p, q)
	case order != RowMajor && order != ColMajor:
		return Block2D{}, fmt.Errorf("blockcyclic: unknown grid order %v", order)
	case mt < 0 || nt < 0:
		return Block2D{}, fmt.Errorf("blockcyclic: negative block counts %d x %d", mt, nt)
	}
	return Block2D{p: p, q: q, order: order, mt: mt, nt: nt,
		wr: bandWidth(mt, p), wc: bandWidth(nt, q)}, nil
}

// Grid returns the grid shape P x Q.
func (d Block2D) Grid() (p, q int) { return d.p, d.q }

// Order returns the rank order of the grid.
func (d Block2D) Order() Order { return d.order }

// Blocks returns the number of block rows and block columns.
func (d Block2D) Blocks() (mt, nt int) { return d.mt, d.nt }

// Widths returns the band widths ceil(mt / P) and ceil(nt / Q).
func (d Block2D) Widths() (wr, wc int) { return d.wr, d.wc }

// Size returns P*Q.
func (d Block2D) Size() int { return d.p * d.q }

// Rank returns the rank at grid coordinates (prow, pcol).
func (d Block2D) Rank(prow, pcol int) int { return gridRank(d.p, d.q, d.order, prow, pcol) }

// Coords returns the grid coordinates of rank.
func (d Block2D) Coords(rank int) (prow, pcol int) { return gridCoords(d.p, d.q, d.order, rank) }

// RowBand returns the first block row and the number of block rows that
// process row prow holds. The count may be zero.
func (d Block2D) RowBand(prow int) (first, count int) {
	if prow < 0 || prow >= d.p {
		panic(errProcRange)
	}
	return band(d.mt, d.wr, prow)
}

// ColBand returns the first block column and the number of block columns
// that process column pcol holds. The count may be zero.
func (d Block2D) ColBand(pcol int) (first, count int) {
	if pcol < 0 || pcol >= d.q {
		panic(errProcRange)
	}
	return band(d.nt, d.wc, pcol)
}

// Owner returns the rank owning block (i, j).
func (d Block2D) Owner(i, j int) int {
	if i < 0 || i >= d.mt || j < 0 || j >= d.nt {
		panic(errBlockRange)
	}
	return gridRank(d.p, d.q, d.order, i/d.wr, j/d.wc)
}

// LocalBlock returns the position of block (i, j) among its owner's blocks.
func (d Block2D) LocalBlock(i, j int) (li, lj int) {
	if i < 0 || i >= d.mt || j < 0 || j >= d.nt {
		panic(errBlockRange)
	}
	return i % d.wr, j % d.wc
}
