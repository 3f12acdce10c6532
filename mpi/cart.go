package mpi

import "fmt"

// DimsCreate returns a balanced factorisation of nnodes into len(dims)
// dimensions (MPI_Dims_create). Non-zero entries of dims are kept as given.
func DimsCreate(nnodes int, dims []int) ([]int, error) {
	if !live() {
		return nil, stateErr("MPI_Dims_create")
	}
	if nnodes <= 0 {
		return nil, argErr(clsDims, "MPI_Dims_create", "nnodes %d must be positive", nnodes)
	}
	d := toC32(dims)
	if rc := lowDimsCreate(nnodes, d); rc != 0 {
		return nil, codeErr(rc, "MPI_Dims_create")
	}
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out, nil
}

// CartCreate makes a Cartesian process grid of the given dims over c
// (collective). periods says which dimensions wrap around. With reorder the
// library may renumber ranks. Ranks beyond the grid's size get a nil
// communicator.
func (c *Comm) CartCreate(dims []int, periods []bool, reorder bool) (*Comm, error) {
	if err := c.check("MPI_Cart_create"); err != nil {
		return nil, err
	}
	if len(periods) != len(dims) {
		return nil, argErr(clsArg, "MPI_Cart_create", "len(periods) = %d, want len(dims) = %d", len(periods), len(dims))
	}
	n := 1
	for i, d := range dims {
		if d <= 0 {
			return nil, argErr(clsDims, "MPI_Cart_create", "dims[%d] = %d must be positive", i, d)
		}
		n *= d
	}
	if n > c.size {
		return nil, argErr(clsDims, "MPI_Cart_create", "grid %v needs %d ranks, %s has %d", dims, n, c.name, c.size)
	}
	per := make([]int32, len(periods))
	for i, p := range periods {
		if p {
			per[i] = 1
		}
	}
	h, rc := lowCartCreate(c.h, toC32(dims), per, reorder)
	nc, err := c.derived(h, rc, "MPI_Cart_create", fmt.Sprintf("cart%v", dims))
	if nc != nil {
		nc.cart = &cartInfo{dims: append([]int(nil), dims...), periods: append([]bool(nil), periods...)}
	}
	return nc, err
}

// Dims returns the grid's dimensions and periodicity; nil if c is not
// Cartesian.
func (c *Comm) Dims() ([]int, []bool) {
	if c.cart == nil {
		return nil, nil
	}
	return append([]int(nil), c.cart.dims...), append([]bool(nil), c.cart.periods...)
}

func (c *Comm) checkCart(call string) error {
	if err := c.check(call); err != nil {
		return err
	}
	if c.cart == nil {
		return argErr(clsTopology, call, "%s has no Cartesian topology", c.name)
	}
	return nil
}

// Coords returns the grid coordinates of rank (local).
func (c *Comm) Coords(rank int) ([]int, error) {
	if err := c.checkCart("MPI_Cart_coords"); err != nil {
		return nil, err
	}
	if rank < 0 || rank >= c.size {
		return nil, argErr(clsRank, "MPI_Cart_coords", "rank %d out of range for %s of size %d", rank, c.name, c.size)
	}
	out := make([]int32, len(c.cart.dims))
	if rc := lowCartCoords(c.h, rank, out); rc != 0 {
		return nil, codeErr(rc, "MPI_Cart_coords")
	}
	res := make([]int, len(out))
	for i, v := range out {
		res[i] = int(v)
	}
	return res, nil
}

// CartRank returns the rank at the given grid coordinates (local).
// Coordinates outside a non-periodic dimension are an error.
func (c *Comm) CartRank(coords []int) (int, error) {
	if err := c.checkCart("MPI_Cart_rank"); err != nil {
		return 0, err
	}
	if len(coords) != len(c.cart.dims) {
		return 0, argErr(clsDims, "MPI_Cart_rank", "%d coordinates for a %d-dimensional grid", len(coords), len(c.cart.dims))
	}
	for i, x := range coords {
		if !c.cart.periods[i] && (x < 0 || x >= c.cart.dims[i]) {
			return 0, argErr(clsArg, "MPI_Cart_rank", "coordinate %d = %d outside 0..%d of a non-periodic dimension", i, x, c.cart.dims[i]-1)
		}
	}
	r, rc := lowCartRank(c.h, toC32(coords))
	if rc != 0 {
		return 0, codeErr(rc, "MPI_Cart_rank")
	}
	return r, nil
}

// Shift returns the source and destination ranks for a shift by disp along
// dimension dir (local); ProcNull off the edge of a non-periodic dimension.
func (c *Comm) Shift(dir, disp int) (source, dest int, err error) {
	if err := c.checkCart("MPI_Cart_shift"); err != nil {
		return 0, 0, err
	}
	if dir < 0 || dir >= len(c.cart.dims) {
		return 0, 0, argErr(clsDims, "MPI_Cart_shift", "direction %d outside 0..%d", dir, len(c.cart.dims)-1)
	}
	s, d, rc := lowCartShift(c.h, dir, disp)
	if rc != 0 {
		return 0, 0, codeErr(rc, "MPI_Cart_shift")
	}
	return s, d, nil
}

// CartSub returns the sub-grid communicator that keeps the dimensions whose
// remain entry is true (collective). For a P x Q grid, CartSub([]bool{false,
// true}) gives each process its row communicator and {true, false} its
// column communicator.
func (c *Comm) CartSub(remain []bool) (*Comm, error) {
	if err := c.checkCart("MPI_Cart_sub"); err != nil {
		return nil, err
	}
	if len(remain) != len(c.cart.dims) {
		return nil, argErr(clsDims, "MPI_Cart_sub", "len(remain) = %d for a %d-dimensional grid", len(remain), len(c.cart.dims))
	}
	rem := make([]int32, len(remain))
	var dims []int
	var periods []bool
	for i, r := range remain {
		if r {
			rem[i] = 1
			dims = append(dims, c.cart.dims[i])
			periods = append(periods, c.cart.periods[i])
		}
	}
	h, rc := lowCartSub(c.h, rem)
	nc, err := c.derived(h, rc, "MPI_Cart_sub", fmt.Sprintf("sub%v", remain))
	if nc != nil {
		nc.cart = &cartInfo{dims: dims, periods: periods}
	}
	return nc, err
}
