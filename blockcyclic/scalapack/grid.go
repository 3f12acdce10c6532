package scalapack

import "github.com/spmd-go/spmd/blockcyclic"

// Grid is a BLACS process grid: a context ScaLAPACK's drivers run on. Make
// one with NewGrid; release it with Exit.
type Grid struct {
	ctxt   int // BLACS context (the descriptors' CTXT_)
	sys    int // BLACS system handle of the communicator
	order  blockcyclic.Order
	nprow  int
	npcol  int
	myrow  int // -1 outside the grid
	mycol  int
	exited bool
}

// Context returns the BLACS context, the value of CTXT_ in descriptors.
func (g *Grid) Context() int { return g.ctxt }

// InGrid reports whether the calling process is part of the grid.
func (g *Grid) InGrid() bool { return g.myrow >= 0 && g.mycol >= 0 }

// Order returns the order ranks were laid on the grid in.
func (g *Grid) Order() blockcyclic.Order { return g.order }

// Info returns what BLACS_GRIDINFO reports: the grid's shape and the
// caller's coordinates (-1 outside the grid).
func (g *Grid) Info() blockcyclic.GridInfo {
	return blockcyclic.GridInfo{NProw: g.nprow, NPcol: g.npcol, MyRow: g.myrow, MyCol: g.mycol}
}

// Desc returns the descriptor of an m x n matrix in mb x nb blocks whose
// first block is on process (rsrc, csrc), stored here with leading dimension
// lld, on this grid; it checks its arguments as DESCINIT does (see
// blockcyclic.NewDesc). It is local. Use LocalLLD for the smallest valid
// lld.
func (g *Grid) Desc(m, n, mb, nb, rsrc, csrc, lld int) (blockcyclic.Desc, error) {
	return blockcyclic.NewDesc(m, n, mb, nb, rsrc, csrc, g.ctxt, lld, g.Info())
}

// LocalShape returns the number of rows and columns of an m x n matrix in
// mb x nb blocks, first block on (rsrc, csrc), that the calling process
// holds (NUMROC on each axis); 0, 0 outside the grid.
func (g *Grid) LocalShape(m, n, mb, nb, rsrc, csrc int) (rows, cols int) {
	if !g.InGrid() {
		return 0, 0
	}
	return blockcyclic.Numroc(m, mb, g.myrow, rsrc, g.nprow), blockcyclic.Numroc(n, nb, g.mycol, csrc, g.npcol)
}
