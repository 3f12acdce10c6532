package blockcyclic

import "fmt"

// DLen is the length of a dense-matrix descriptor (ScaLAPACK's DLEN_).
const DLen = 9

// Positions of the entries of a Desc. The names are ScaLAPACK's; the values
// are ScaLAPACK's minus one, because Go arrays are 0-based: ScaLAPACK's
// DESC(MB_) with MB_ = 5 is d[MB_] with MB_ = 4 here.
const (
	DTYPE_ = iota // descriptor type, BlockCyclic2D for a dense matrix
	CTXT_         // BLACS context of the process grid
	M_            // global number of rows
	N_            // global number of columns
	MB_           // row block size
	NB_           // column block size
	RSRC_         // process row holding the first row of the matrix
	CSRC_         // process column holding the first column of the matrix
	LLD_          // leading dimension of the local (column-major) array
)

// BlockCyclic2D is the DTYPE_ value of a dense 2D block-cyclic descriptor.
const BlockCyclic2D = 1

// Desc is ScaLAPACK's 9-integer array descriptor of a dense matrix
// distributed 2D block-cyclically, entry for entry. Index it with the
// constants DTYPE_ ... LLD_. A Desc made by NewDesc satisfies DESCINIT's
// checks on the process that made it (LLD_ depends on the process row).
//
// The zero Desc is not a valid descriptor (its DTYPE_ is 0).
type Desc [DLen]int

// GridInfo is what BLACS_GRIDINFO reports for a context on the calling
// process: the grid's shape and the caller's coordinates in it. BLACS reports
// -1 everywhere for an invalid context or a process outside the grid.
type GridInfo struct {
	NProw, NPcol int // grid shape, P x Q
	MyRow, MyCol int // the caller's coordinates, 0-based
}

// NewDesc builds the descriptor of an m x n matrix cut into mb x nb blocks,
// with its first block on process (rsrc, csrc) of the grid of context ctxt,
// stored locally in a column-major array with leading dimension lld. It is
// local: it does not communicate.
//
// NewDesc checks its arguments as ScaLAPACK's DESCINIT does, in the same
// order, and returns a *DescError naming the first failing field and the INFO
// DESCINIT would return:
//
//	M_    m < 0                                   INFO = -2
//	N_    n < 0                                   INFO = -3
//	MB_   mb < 1                                  INFO = -4
//	NB_   nb < 1                                  INFO = -5
//	RSRC_ rsrc not in [0, NProw)                  INFO = -6
//	CSRC_ csrc not in [0, NPcol)                  INFO = -7
//	CTXT_ invalid grid                            INFO = -8
//	LLD_  lld < max(1, Numroc(m, mb, MyRow, rsrc, NProw))  INFO = -9
//
// One deliberate difference: the grid is checked first. BLACS_GRIDINFO
// reports NPROW = -1 for an invalid context, so DESCINIT itself trips on
// RSRC_ (INFO = -6) before it reaches its context test; NewDesc names the
// real cause, CTXT_ with INFO = -8. The grid is invalid when NProw or NPcol
// is less than 1 or the caller's coordinates are outside it.
func NewDesc(m, n, mb, nb, rsrc, csrc, ctxt, lld int, grid GridInfo) (Desc, error) {
	bad := func(field string, info int, format string, args ...any) (Desc, error) {
		return Desc{}, &DescError{Field: field, Info: info, Reason: fmt.Sprintf(format, args...)}
	}
	if grid.NProw < 1 || grid.NPcol < 1 ||
		grid.MyRow < 0 || grid.MyRow >= grid.NProw ||
		grid.MyCol < 0 || grid.MyCol >= grid.NPcol {
		return bad("CTXT_", -8, "CTXT_ = %d is not a valid grid for this process (%d x %d, at (%d, %d))",
			ctxt, grid.NProw, grid.NPcol, grid.MyRow, grid.MyCol)
	}
	switch {
	case m < 0:
		return bad("M_", -2, "M_ = %d must not be negative", m)
	case n < 0:
		return bad("N_", -3, "N_ = %d must not be negative", n)
	case mb < 1:
		return bad("MB_", -4, "MB_ = %d must be positive", mb)
	case nb < 1:
		return bad("NB_", -5, "NB_ = %d must be positive", nb)
	case rsrc < 0 || rsrc >= grid.NProw:
		return bad("RSRC_", -6, "RSRC_ = %d must be in [0, %d)", rsrc, grid.NProw)
	case csrc < 0 || csrc >= grid.NPcol:
		return bad("CSRC_", -7, "CSRC_ = %d must be in [0, %d)", csrc, grid.NPcol)
	}
	if need := max(1, Numroc(m, mb, grid.MyRow, rsrc, grid.NProw)); lld < need {
		return bad("LLD_", -9, "LLD_ = %d is less than max(1, local rows) = %d on process row %d",
			lld, need, grid.MyRow)
	}
	return Desc{BlockCyclic2D, ctxt, m, n, mb, nb, rsrc, csrc, lld}, nil
}

// LocalRows returns the number of rows of the matrix that process row myrow
// holds: NUMROC(M_, MB_, myrow, RSRC_, NPROW).
func (d *Desc) LocalRows(myrow, nprow int) int {
	return Numroc(d[M_], d[MB_], myrow, d[RSRC_], nprow)
}

// LocalCols returns the number of columns of the matrix that process column
// mycol holds: NUMROC(N_, NB_, mycol, CSRC_, NPCOL).
func (d *Desc) LocalCols(mycol, npcol int) int {
	return Numroc(d[N_], d[NB_], mycol, d[CSRC_], npcol)
}

// Int32 returns the descriptor as Fortran default INTEGERs, ready to pass to
// ScaLAPACK built with 32-bit integers (LP64, as Debian's is). It panics if
// an entry does not fit.
func (d *Desc) Int32() [DLen]int32 {
	var out [DLen]int32
	for i, v := range d {
		if int(int32(v)) != v {
			panic("blockcyclic: descriptor entry does not fit in int32")
		}
		out[i] = int32(v)
	}
	return out
}
