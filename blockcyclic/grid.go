package blockcyclic

import (
	"fmt"

	"github.com/spmd-go/spmd/mpi"
)

// GridFromCart returns the 2D block-cyclic distribution whose P x Q process
// grid is the two-dimensional Cartesian communicator c (from
// Comm.CartCreate with two dimensions), with block (0, 0) on grid
// coordinates (rsrc, csrc). MPI numbers a Cartesian grid in row-major
// order, so the distribution is RowMajor, and grid coordinates are c's
// coordinates. A Runtime over c (or over a communicator with the same rank
// numbering) then places tiles on the ranks of the grid; CartSub of c with
// remain = {false, true} and {true, false} gives the row and column
// communicators.
func GridFromCart(c *mpi.Comm, rsrc, csrc int) (Cyclic2D, error) {
	if c == nil {
		return Cyclic2D{}, fmt.Errorf("blockcyclic: GridFromCart: nil communicator")
	}
	dims, _ := c.Dims()
	if len(dims) != 2 {
		return Cyclic2D{}, fmt.Errorf("blockcyclic: GridFromCart: the communicator has %d Cartesian dimensions, want 2", len(dims))
	}
	// Check that the library's numbering is the row-major one assumed.
	for r := 0; r < c.Size(); r++ {
		co, err := c.Coords(r)
		if err != nil {
			return Cyclic2D{}, err
		}
		if co[0]*dims[1]+co[1] != r {
			return Cyclic2D{}, fmt.Errorf("blockcyclic: GridFromCart: rank %d has coordinates %v, not row-major in a %d x %d grid", r, co, dims[0], dims[1])
		}
	}
	return NewCyclic2D(dims[0], dims[1], RowMajor, rsrc, csrc)
}
