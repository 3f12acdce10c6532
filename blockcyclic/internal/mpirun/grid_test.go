package mpirun

import (
	"testing"

	"github.com/stretchr/testify/assert"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/mpi"
)

// TestGridFromCart builds the distribution from a Cartesian communicator and
// checks that each rank's grid coordinates are its Cartesian coordinates.
func TestGridFromCart(t *testing.T) {
	w := mpi.World()
	dims, err := mpi.DimsCreate(w.Size(), make([]int, 2))
	if !assert.NoError(t, err) {
		return
	}
	cart, err := w.CartCreate(dims, []bool{false, false}, false)
	if !assert.NoError(t, err) {
		return
	}
	defer cart.Free()
	g, err := bc.GridFromCart(cart, 0, dims[1]-1)
	if !assert.NoError(t, err) {
		return
	}
	p, q := g.Grid()
	assert.Equal(t, dims, []int{p, q})
	co, err := cart.Coords(cart.Rank())
	assert.NoError(t, err)
	prow, pcol := g.Coords(cart.Rank())
	assert.Equal(t, co, []int{prow, pcol})
	_, csrc := g.Source()
	assert.Equal(t, dims[1]-1, csrc)

	_, err = bc.GridFromCart(w, 0, 0)
	assert.ErrorContains(t, err, "0 Cartesian dimensions")
	_, err = bc.GridFromCart(cart, p, 0)
	assert.ErrorContains(t, err, "source row")
}
