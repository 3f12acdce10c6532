package mpi_test

import (
	"errors"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

// TestUnsafeAddress sends around the ring from raw addresses with
// IsendUnsafe and IrecvUnsafe, as package cudaaware does with device memory.
func TestUnsafeAddress(t *testing.T) {
	for _, c := range mpitest.Comms(t) {
		r, p := c.Rank(), c.Size()
		next, prev := (r+1)%p, (r+p-1)%p
		for _, n := range []int{0, 1, 1000} {
			out := fill[float64](r, n)
			in := make([]float64, n+1) // one spare element: count is the message's
			rq, err := mpi.IrecvUnsafe[float64](c, unsafe.Pointer(unsafe.SliceData(in)), n+1, prev, 9)
			require.NoError(t, err)
			sq, err := mpi.IsendUnsafe[float64](c, unsafe.Pointer(unsafe.SliceData(out)), n, next, 9)
			require.NoError(t, err)
			_, err = sq.Wait()
			assert.NoError(t, err)
			st, err := rq.Wait()
			assert.NoError(t, err)
			assert.Equal(t, n, st.Count)
			assert.Equal(t, fill[float64](prev, n), in[:n])
		}
	}
}

func TestUnsafeAddressErrors(t *testing.T) {
	c := mpi.World()
	_, err := mpi.IsendUnsafe[byte](c, nil, 4, 0, 0)
	assert.True(t, errors.Is(err, mpi.ErrBuffer), "nil address with a count: %v", err)
	_, err = mpi.IrecvUnsafe[byte](c, nil, -1, 0, 0)
	assert.True(t, errors.Is(err, mpi.ErrCount), "negative count: %v", err)
	var x int32
	_, err = mpi.IsendUnsafe[int32](c, unsafe.Pointer(&x), 1, c.Size(), 0)
	assert.True(t, errors.Is(err, mpi.ErrRank), "rank out of range: %v", err)
	assert.Equal(t, 0, mpi.PendingRequests())
}

// TestAllocMem: memory from MPI_Alloc_mem receives a message through
// IrecvUnsafe (nothing to pin) and goes back with FreeMem; bad sizes are
// argument errors.
func TestAllocMem(t *testing.T) {
	c := mpi.World()
	r := c.Rank()
	m, err := mpi.AllocMem(64)
	require.NoError(t, err)
	require.Len(t, m, 64)
	req, err := mpi.IrecvUnsafe[byte](c, unsafe.Pointer(&m[0]), 64, r, 79)
	require.NoError(t, err)
	out := []byte("memory from the library")
	require.NoError(t, mpi.Send(c, out, r, 79))
	st, err := req.Wait()
	require.NoError(t, err)
	assert.Equal(t, len(out), st.Count)
	assert.Equal(t, out, m[:len(out)])
	require.NoError(t, mpi.FreeMem(m))
	_, err = mpi.AllocMem(0)
	assert.ErrorIs(t, err, mpi.ErrArg)
	assert.ErrorIs(t, mpi.FreeMem(nil), mpi.ErrArg)
	assert.Equal(t, 0, mpi.PendingRequests())
}
