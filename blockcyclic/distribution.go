package blockcyclic

import "fmt"

// Distribution says where the tiles of a tiled matrix live: which rank owns
// block (i, j), and where that block sits among the owner's own blocks.
// Block coordinates are 0-based block-row and block-column numbers of the
// global matrix; ranks are 0-based ranks of the communicator the
// distribution is used with.
//
// Implementations are values computed from a few integers: every method is
// local, cheap, allocation-free, and gives the same answer on every rank,
// which is what lets every rank of a task graph agree on owners without
// communicating. Methods panic if a block or rank is out of range.
type Distribution interface {
	// Owner returns the rank that owns block (i, j).
	Owner(i, j int) int
	// LocalBlock returns the coordinates of block (i, j) in the grid of
	// blocks its owner holds.
	LocalBlock(i, j int) (li, lj int)
	// Size returns the number of ranks the distribution deals blocks to.
	Size() int
}

// Order is the order in which ranks are laid on a process grid.
type Order int

const (
	// RowMajor numbers the grid row by row: rank = prow*Q + pcol. It is
	// BLACS_GRIDINIT's default ('R').
	RowMajor Order = iota
	// ColMajor numbers the grid column by column: rank = pcol*P + prow
	// (BLACS_GRIDINIT with 'C').
	ColMajor
)

func (o Order) String() string {
	switch o {
	case RowMajor:
		return "row-major"
	case ColMajor:
		return "column-major"
	}
	return fmt.Sprintf("Order(%d)", int(o))
}

// Cyclic2D is the 2D block-cyclic distribution of ScaLAPACK over a P x Q
// process grid: block (i, j) lives on grid coordinates
// ((RSrc + i) mod P, (CSrc + j) mod Q), as local block (i / P, j / Q).
//
// It deals blocks, not elements: the matrix size and block size are not part
// of it. Use Numroc and the index maps for element counts and indices.
//
// The zero value is not usable; make one with NewCyclic2D.
type Cyclic2D struct {
	p, q       int
	order      Order
	rsrc, csrc int
}

var _ Distribution = Cyclic2D{}

// NewCyclic2D returns the block-cyclic distribution over a p x q grid whose
// ranks are numbered in the given order, with block (0, 0) on grid
// coordinates (rsrc, csrc). It returns an error if p or q is less than 1,
// order is unknown, or the source is outside the grid.
func NewCyclic2D(p, q int, order Order, rsrc, csrc int) (Cyclic2D, error) {
	switch {
	case p < 1 || q < 1:
		return Cyclic2D{}, fmt.Errorf("blockcyclic: grid %d x %d must have positive dimensions", p, q)
	case order != RowMajor && order != ColMajor:
		return Cyclic2D{}, fmt.Errorf("blockcyclic: unknown grid order %v", order)
	case rsrc < 0 || rsrc >= p:
		return Cyclic2D{}, fmt.Errorf("blockcyclic: source row %d outside a grid of %d rows", rsrc, p)
	case csrc < 0 || csrc >= q:
		return Cyclic2D{}, fmt.Errorf("blockcyclic: source column %d outside a grid of %d columns", csrc, q)
	}
	return Cyclic2D{p: p, q: q, order: order, rsrc: rsrc, csrc: csrc}, nil
}

// Grid returns the grid shape P x Q.
func (d Cyclic2D) Grid() (p, q int) { return d.p, d.q }

// Order returns the rank order of the grid.
func (d Cyclic2D) Order() Order { return d.order }

// Source returns the grid coordinates of the process holding block (0, 0).
func (d Cyclic2D) Source() (rsrc, csrc int) { return d.rsrc, d.csrc }

// Size returns P*Q.
func (d Cyclic2D) Size() int { return d.p * d.q }

// Rank returns the rank at grid coordinates (prow, pcol).
func (d Cyclic2D) Rank(prow, pcol int) int { return gridRank(d.p, d.q, d.order, prow, pcol) }

// Coords returns the grid coordinates of rank.
func (d Cyclic2D) Coords(rank int) (prow, pcol int) { return gridCoords(d.p, d.q, d.order, rank) }

// gridRank returns the rank at (prow, pcol) of a p x q grid in order.
func gridRank(p, q int, order Order, prow, pcol int) int {
	if prow < 0 || prow >= p || pcol < 0 || pcol >= q {
		panic(errProcRange)
	}
	switch order {
	case RowMajor:
		return prow*q + pcol
	case ColMajor:
		return pcol*p + prow
	}
	panic(errBadOrder)
}

// gridCoords is the inverse of gridRank.
func gridCoords(p, q int, order Order, rank int) (prow, pcol int) {
	if rank < 0 || rank >= p*q {
		panic(errRankRange)
	}
	switch order {
	case RowMajor:
		return rank / q, rank % q
	case ColMajor:
		return rank % p, rank / p
	}
	panic(errBadOrder)
}

// Owner returns the rank owning block (i, j).
func (d Cyclic2D) Owner(i, j int) int {
	if i < 0 || j < 0 {
		panic(errBlockRange)
	}
	return d.Rank((d.rsrc+i)%d.p, (d.csrc+j)%d.q)
}

// LocalBlock returns the position of block (i, j) among its owner's blocks.
func (d Cyclic2D) LocalBlock(i, j int) (li, lj int) {
	if i < 0 || j < 0 {
		panic(errBlockRange)
	}
	return i / d.p, j / d.q
}

// LocalBlocks returns how many block rows and block columns of an mt x nt
// grid of blocks the process at (prow, pcol) holds (Numroc with a block size
// of one block).
func (d Cyclic2D) LocalBlocks(mt, nt, prow, pcol int) (lmt, lnt int) {
	return Numroc(mt, 1, prow, d.rsrc, d.p), Numroc(nt, 1, pcol, d.csrc, d.q)
}
