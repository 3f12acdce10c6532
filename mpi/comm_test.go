package mpi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/mpi"
)

func TestDupSplitCompare(t *testing.T) {
	w := mpi.World()
	r, p := w.Rank(), w.Size()
	d, err := w.Dup()
	require.NoError(t, err)
	defer d.Free()
	assert.Equal(t, r, d.Rank())
	assert.Equal(t, p, d.Size())
	res, err := w.Compare(d)
	require.NoError(t, err)
	assert.Equal(t, mpi.Congruent, res)
	res, err = w.Compare(w)
	require.NoError(t, err)
	assert.Equal(t, mpi.Ident, res)

	// Messages on the dup do not match receives on the world.
	// (A blocking send to self may wait for its receive, so Isend.)
	sreq, err := mpi.Isend(d, []int32{1}, r, 0)
	require.NoError(t, err)
	ok, _, err := mpi.Iprobe(w, r, 0)
	require.NoError(t, err)
	assert.False(t, ok, "a message on a Dup is invisible on the original")
	got := []int32{0}
	_, err = mpi.Recv(d, got, r, 0)
	require.NoError(t, err)
	_, err = sreq.Wait()
	require.NoError(t, err)
	assert.Equal(t, int32(1), got[0])

	// Split by parity, reversed order within each part.
	s, err := w.Split(r%2, -r)
	require.NoError(t, err)
	defer s.Free()
	want := (p - r%2 + 1) / 2
	assert.Equal(t, want, s.Size())
	assert.Equal(t, (want-1)-r/2, s.Rank())
	sum := []int32{0}
	require.NoError(t, mpi.Allreduce(s, []int32{int32(r)}, sum, mpi.Sum))
	exp := int32(0)
	for q := r % 2; q < p; q += 2 {
		exp += int32(q)
	}
	assert.Equal(t, exp, sum[0])
	res, err = w.Compare(s)
	require.NoError(t, err)
	if p == 1 {
		assert.Equal(t, mpi.Congruent, res)
	} else {
		assert.Equal(t, mpi.Unequal, res)
	}

	// Opting out with Undefined.
	color := 0
	if r == 0 {
		color = mpi.Undefined
	}
	u, err := w.Split(color, 0)
	require.NoError(t, err)
	if r == 0 {
		assert.Nil(t, u)
	} else {
		assert.Equal(t, p-1, u.Size())
		require.NoError(t, u.Free())
	}

	sh, err := w.SplitShared(0)
	require.NoError(t, err)
	assert.Equal(t, p, sh.Size(), "all ranks of a test job share one node")
	require.NoError(t, sh.Free())
}

func TestFree(t *testing.T) {
	w := mpi.World()
	d, err := w.Dup()
	require.NoError(t, err)
	require.NoError(t, d.Free())
	assert.ErrorIs(t, d.Free(), mpi.ErrComm, "double free")
	assert.ErrorIs(t, mpi.Send(d, []byte{1}, 0, 0), mpi.ErrComm, "use after free")
	assert.ErrorIs(t, w.Free(), mpi.ErrComm, "the world cannot be freed")
	var nilComm *mpi.Comm
	assert.ErrorIs(t, mpi.Barrier(nilComm), mpi.ErrComm)
}

func TestGroups(t *testing.T) {
	w := mpi.World()
	r, p := w.Rank(), w.Size()
	g, err := w.Group()
	require.NoError(t, err)
	defer g.Free()
	assert.Equal(t, p, g.Size())
	assert.Equal(t, r, g.Rank())
	// The group of even ranks, in reverse order.
	var evens []int
	for q := p - 1; q >= 0; q-- {
		if q%2 == 0 {
			evens = append(evens, q)
		}
	}
	ge, err := g.Incl(evens)
	require.NoError(t, err)
	defer ge.Free()
	assert.Equal(t, len(evens), ge.Size())
	tr, err := ge.TranslateRanks([]int{0}, g)
	require.NoError(t, err)
	assert.Equal(t, []int{evens[0]}, tr)
	gx, err := g.Excl([]int{0})
	require.NoError(t, err)
	assert.Equal(t, p-1, gx.Size())
	require.NoError(t, gx.Free())
	assert.ErrorIs(t, gx.Free(), mpi.ErrGroup)
	_, err = g.Incl([]int{p})
	assert.ErrorIs(t, err, mpi.ErrRank)
	_, err = g.Incl([]int{0, 0})
	assert.ErrorIs(t, err, mpi.ErrRank)

	ce, err := w.Create(ge)
	require.NoError(t, err)
	if r%2 == 0 {
		require.NotNil(t, ce)
		assert.Equal(t, len(evens), ce.Size())
		assert.Equal(t, len(evens)-1-r/2, ce.Rank())
		require.NoError(t, ce.Free())
	} else {
		assert.Nil(t, ce)
	}

	// CreateGroup: only the members call it.
	if r%2 == 0 {
		cg, err := w.CreateGroup(ge, 5)
		require.NoError(t, err)
		require.NotNil(t, cg)
		assert.Equal(t, len(evens), cg.Size())
		assert.Equal(t, len(evens)-1-r/2, cg.Rank())
		require.NoError(t, cg.Free())
		_, err = w.CreateGroup(ge, -1)
		assert.ErrorIs(t, err, mpi.ErrTag)
	} else {
		_, err := w.CreateGroup(ge, 5)
		assert.ErrorIs(t, err, mpi.ErrGroup)
	}
}

func TestCartesian(t *testing.T) {
	w := mpi.World()
	p := w.Size()
	dims, err := mpi.DimsCreate(p, []int{0, 0})
	require.NoError(t, err)
	require.Len(t, dims, 2)
	assert.Equal(t, p, dims[0]*dims[1])
	assert.GreaterOrEqual(t, dims[0], dims[1], "MPI_Dims_create orders non-increasing")

	grid, err := w.CartCreate(dims, []bool{true, false}, false)
	require.NoError(t, err)
	defer grid.Free()
	gd, per := grid.Dims()
	assert.Equal(t, dims, gd)
	assert.Equal(t, []bool{true, false}, per)
	me := grid.Rank()
	coords, err := grid.Coords(me)
	require.NoError(t, err)
	// Row-major rank order.
	assert.Equal(t, me, coords[0]*dims[1]+coords[1])
	back, err := grid.CartRank(coords)
	require.NoError(t, err)
	assert.Equal(t, me, back)
	// Periodic in dimension 0: wrapping coordinates is allowed.
	wrapped, err := grid.CartRank([]int{coords[0] + dims[0], coords[1]})
	require.NoError(t, err)
	assert.Equal(t, me, wrapped)
	_, err = grid.CartRank([]int{0, dims[1]})
	assert.Error(t, err, "non-periodic dimension out of range")

	src, dst, err := grid.Shift(0, 1)
	require.NoError(t, err)
	wantDst, _ := grid.CartRank([]int{(coords[0] + 1) % dims[0], coords[1]})
	wantSrc, _ := grid.CartRank([]int{(coords[0] - 1 + dims[0]) % dims[0], coords[1]})
	assert.Equal(t, wantDst, dst)
	assert.Equal(t, wantSrc, src)
	_, dst, err = grid.Shift(1, 1)
	require.NoError(t, err)
	if coords[1] == dims[1]-1 {
		assert.Equal(t, mpi.ProcNull, dst, "off the edge of a non-periodic dimension")
	}
	_, _, err = grid.Shift(2, 1)
	assert.ErrorIs(t, err, mpi.ErrDims)

	row, err := grid.CartSub([]bool{false, true})
	require.NoError(t, err)
	defer row.Free()
	col, err := grid.CartSub([]bool{true, false})
	require.NoError(t, err)
	defer col.Free()
	assert.Equal(t, dims[1], row.Size())
	assert.Equal(t, dims[0], col.Size())
	assert.Equal(t, coords[1], row.Rank())
	assert.Equal(t, coords[0], col.Rank())
	// The row sum of world ranks checks the row's membership.
	sum := []int32{0}
	require.NoError(t, mpi.Allreduce(row, []int32{int32(me)}, sum, mpi.Sum))
	exp := int32(0)
	for j := range dims[1] {
		exp += int32(coords[0]*dims[1] + j)
	}
	assert.Equal(t, exp, sum[0])

	_, err = w.CartCreate([]int{p + 1}, []bool{false}, false)
	assert.ErrorIs(t, err, mpi.ErrDims, "grid larger than the communicator")
	_, err = w.CartCreate([]int{0}, []bool{false}, false)
	assert.ErrorIs(t, err, mpi.ErrDims)
	_, err = w.Coords(0)
	assert.ErrorIs(t, err, mpi.ErrTopology, "world has no grid")
}

func TestRawHandles(t *testing.T) {
	w := mpi.World()
	assert.NotZero(t, w.Raw())
	d, err := w.Dup()
	require.NoError(t, err)
	defer d.Free()
	assert.NotEqual(t, w.Raw(), d.Raw(), "a Dup is another handle")
	assert.NotEqual(t, mpi.RawDatatype[float64](), mpi.RawDatatype[int32]())
	assert.Equal(t, mpi.RawDatatype[float64](), mpi.RawDatatype[celsius](), "named types share the datatype")
	assert.Equal(t, 16, mpi.ElemSize[mpi.Float64Int]())
	assert.NoError(t, mpi.ErrorFromCode(0, "MPI_X"))
	assert.ErrorIs(t, mpi.ErrorFromCode(mpi.ErrTruncate.Class, "MPI_X"), mpi.ErrTruncate)
	assert.NoError(t, mpi.CheckLive("MPI_X"))
}
