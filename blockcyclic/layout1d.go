package blockcyclic

import "fmt"

// Axis is the dimension a one-dimensional distribution splits.
type Axis int

const (
	// ByRows deals block rows: every rank holds whole block rows.
	ByRows Axis = iota
	// ByCols deals block columns: every rank holds whole block columns.
	ByCols
)

func (a Axis) String() string {
	switch a {
	case ByRows:
		return "by rows"
	case ByCols:
		return "by columns"
	}
	return fmt.Sprintf("Axis(%d)", int(a))
}

// split returns the block index along axis a and the other one.
func (a Axis) split(i, j int) (k, other int) {
	switch a {
	case ByRows:
		return i, j
	case ByCols:
		return j, i
	}
	panic(errBadAxis)
}

// join is the inverse of split.
func (a Axis) join(k, other int) (i, j int) {
	switch a {
	case ByRows:
		return k, other
	case ByCols:
		return other, k
	}
	panic(errBadAxis)
}

// bandWidth is ScaLAPACK's block size for a block distribution of n items
// over p processes: ceil(n / p).
func bandWidth(n, p int) int { return (n + p - 1) / p }

// band returns the first index and the count of the idx-th band of width w
// of n items. The last bands may be shorter or empty.
func band(n, w, idx int) (first, count int) {
	first = min(idx*w, n)
	return first, min(w, n-first)
}

// Block1D is the one-dimensional block distribution over P ranks: the n
// block rows (ByRows) or block columns (ByCols) are cut into P contiguous
// bands of W = ceil(n / P) blocks, band r on rank r. The last ranks may get
// fewer blocks, or none. It is ScaLAPACK's 1D block layout, a block-cyclic
// layout of block size W over a P x 1 (or 1 x P) grid with source 0.
//
// Block (i, j) with k = i (ByRows) or k = j (ByCols) is on rank k / W, as
// local block (k mod W, j) (ByRows) or (i, k mod W) (ByCols): the other
// dimension is not split. Unlike Cyclic2D it needs the number of blocks n
// along the split dimension, and block indices along it must be below n.
//
// The zero value is not usable; make one with NewBlock1D.
type Block1D struct {
	p    int
	axis Axis
	n, w int
}

var _ Distribution = Block1D{}

// NewBlock1D returns the block distribution of n block rows (ByRows) or
// block columns (ByCols) over p ranks. It returns an error if p is less than
// 1, n is negative or axis is unknown.
func NewBlock1D(p int, axis Axis, n int) (Block1D, error) {
	switch {
	case p < 1:
		return Block1D{}, fmt.Errorf("blockcyclic: %d ranks must be positive", p)
	case axis != ByRows && axis != ByCols:
		return Block1D{}, fmt.Errorf("blockcyclic: unknown axis %v", axis)
	case n < 0:
		return Block1D{}, fmt.Errorf("blockcyclic: negative block count %d", n)
	}
	return Block1D{p: p, axis: axis, n: n, w: bandWidth(n, p)}, nil
}

// Size returns P.
func (d Block1D) Size() int { return d.p }

// Axis returns the dimension that is split.
func (d Block1D) Axis() Axis { return d.axis }

// Blocks returns the number of blocks along the split dimension.
func (d Block1D) Blocks() int { return d.n }

// Width returns the band width ceil(n / P), the most blocks one rank holds.
func (d Block1D) Width() int { return d.w }

// Band returns the first block index and the number of blocks, along the
// split dimension, that rank holds. The count may be zero.
func (d Block1D) Band(rank int) (first, count int) {
	if rank < 0 || rank >= d.p {
		panic(errRankRange)
	}
	return band(d.n, d.w, rank)
}

// Owner returns the rank owning block (i, j).
func (d Block1D) Owner(i, j int) int {
	k, other := d.axis.split(i, j)
	if k < 0 || k >= d.n || other < 0 {
		panic(errBlockRange)
	}
	return k / d.w
}

// LocalBlock returns the position of block (i, j) among its owner's blocks.
func (d Block1D) LocalBlock(i, j int) (li, lj int) {
	k, other := d.axis.split(i, j)
	if k < 0 || k >= d.n || other < 0 {
		panic(errBlockRange)
	}
	return d.axis.join(k%d.w, other)
}

// Cyclic1D is the one-dimensional cyclic distribution over P ranks: block
// row i (ByRows) or block column j (ByCols) goes to rank
// (Src + i) mod P, as its (i / P)-th local block row (or column); the other
// dimension is not split. ByRows it is Cyclic2D over a P x 1 grid, ByCols
// over a 1 x P grid.
//
// Like Cyclic2D it deals blocks and does not need the number of blocks.
//
// The zero value is not usable; make one with NewCyclic1D.
type Cyclic1D struct {
	p    int
	axis Axis
	src  int
}

var _ Distribution = Cyclic1D{}

// NewCyclic1D returns the cyclic distribution of block rows (ByRows) or
// block columns (ByCols) over p ranks, with block row (or column) 0 on rank
// src. It returns an error if p is less than 1, axis is unknown or src is
// not a rank.
func NewCyclic1D(p int, axis Axis, src int) (Cyclic1D, error) {
	switch {
	case p < 1:
		return Cyclic1D{}, fmt.Errorf("blockcyclic: %d ranks must be positive", p)
	case axis != ByRows && axis != ByCols:
		return Cyclic1D{}, fmt.Errorf("blockcyclic: unknown axis %v", axis)
	case src < 0 || src >= p:
		return Cyclic1D{}, fmt.Errorf("blockcyclic: source rank %d outside %d ranks", src, p)
	}
	return Cyclic1D{p: p, axis: axis, src: src}, nil
}

// Size returns P.
func (d Cyclic1D) Size() int { return d.p }

// Axis returns the dimension that is dealt.
func (d Cyclic1D) Axis() Axis { return d.axis }

// Source returns the rank holding block row (or column) 0.
func (d Cyclic1D) Source() int { return d.src }

// Owner returns the rank owning block (i, j).
func (d Cyclic1D) Owner(i, j int) int {
	if i < 0 || j < 0 {
		panic(errBlockRange)
	}
	k, _ := d.axis.split(i, j)
	return (d.src + k) % d.p
}

// LocalBlock returns the position of block (i, j) among its owner's blocks.
func (d Cyclic1D) LocalBlock(i, j int) (li, lj int) {
	if i < 0 || j < 0 {
		panic(errBlockRange)
	}
	k, other := d.axis.split(i, j)
	return d.axis.join(k/d.p, other)
}

// LocalBlocks returns how many of n block rows (or columns) rank holds
// (Numroc with a block size of one block).
func (d Cyclic1D) LocalBlocks(n, rank int) int {
	return Numroc(n, 1, rank, d.src, d.p)
}
