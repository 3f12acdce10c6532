package blockcyclic

import "fmt"

// Cyclic3D is the layout of 2.5D algorithms over a P x Q x R process grid:
// R layers, each a P x Q grid holding a full copy of the matrix in the 2D
// block-cyclic layout of Cyclic2D (same order and source on every layer).
// Block (i, j) is replicated on R ranks, one per layer, and is local block
// (i / P, j / Q) on each of them.
//
// Ranks are numbered layer by layer: layer l holds ranks l*P*Q through
// (l+1)*P*Q - 1, and within a layer the rank at grid coordinates
// (prow, pcol) is l*P*Q + Cyclic2D.Rank(prow, pcol). With R = 1 it is
// Cyclic2D. Owner returns the copy on layer 0 (ranks 0 to P*Q-1); Owners
// returns every copy.
//
// The zero value is not usable; make one with NewCyclic3D.
type Cyclic3D struct {
	c Cyclic2D
	r int
}

var _ Distribution = Cyclic3D{}

// NewCyclic3D returns the 2D block-cyclic layout over a p x q grid with
// ranks in the given order and block (0, 0) on (rsrc, csrc), replicated on r
// layers. It returns an error if p, q or r is less than 1, order is unknown,
// or the source is outside the grid.
func NewCyclic3D(p, q, r int, order Order, rsrc, csrc int) (Cyclic3D, error) {
	if r < 1 {
		return Cyclic3D{}, fmt.Errorf("blockcyclic: %d layers must be positive", r)
	}
	c, err := NewCyclic2D(p, q, order, rsrc, csrc)
	if err != nil {
		return Cyclic3D{}, err
	}
	return Cyclic3D{c: c, r: r}, nil
}

// Grid returns the grid shape P x Q x R.
func (d Cyclic3D) Grid() (p, q, r int) { return d.c.p, d.c.q, d.r }

// Layer returns the 2D layout of each layer.
func (d Cyclic3D) Layer() Cyclic2D { return d.c }

// Size returns P*Q*R.
func (d Cyclic3D) Size() int { return d.c.Size() * d.r }

// Rank returns the rank at grid coordinates (prow, pcol) of layer.
func (d Cyclic3D) Rank(prow, pcol, layer int) int {
	if layer < 0 || layer >= d.r {
		panic(errLayerRange)
	}
	return layer*d.c.Size() + d.c.Rank(prow, pcol)
}

// Coords returns the grid coordinates and layer of rank.
func (d Cyclic3D) Coords(rank int) (prow, pcol, layer int) {
	if rank < 0 || rank >= d.Size() {
		panic(errRankRange)
	}
	n := d.c.Size()
	prow, pcol = d.c.Coords(rank % n)
	return prow, pcol, rank / n
}

// Owner returns the rank on layer 0 holding block (i, j).
func (d Cyclic3D) Owner(i, j int) int { return d.c.Owner(i, j) }

// Owners appends to dst the R ranks holding block (i, j), layer 0 first,
// and returns the extended slice. It allocates only if dst lacks capacity.
func (d Cyclic3D) Owners(dst []int, i, j int) []int {
	o, n := d.c.Owner(i, j), d.c.Size()
	for l := 0; l < d.r; l++ {
		dst = append(dst, l*n+o)
	}
	return dst
}

// LocalBlock returns the position of block (i, j) among its owners' blocks,
// the same on every layer.
func (d Cyclic3D) LocalBlock(i, j int) (li, lj int) { return d.c.LocalBlock(i, j) }

// LocalBlocks returns how many block rows and block columns of an mt x nt
// grid of blocks rank holds.
func (d Cyclic3D) LocalBlocks(mt, nt, rank int) (lmt, lnt int) {
	prow, pcol, _ := d.Coords(rank)
	return d.c.LocalBlocks(mt, nt, prow, pcol)
}
