package mpi_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

// wait returns a function that checks the start of a nonblocking
// collective and waits for it: wait(t)(mpi.Ibcast(...)).
func wait(t *testing.T) func(mpi.Request, error) {
	return func(req mpi.Request, err error) {
		t.Helper()
		require.NoError(t, err)
		_, err = req.Wait()
		require.NoError(t, err)
	}
}

// both runs body for the blocking and the nonblocking form.
func both(t *testing.T, body func(t *testing.T, c *mpi.Comm, nb bool)) {
	for ci, c := range mpitest.Comms(t) {
		for _, nb := range []bool{false, true} {
			t.Run(fmt.Sprintf("comm%d/nonblocking=%v", ci, nb), func(t *testing.T) { body(t, c, nb) })
		}
	}
}

func TestBarrier(t *testing.T) {
	both(t, func(t *testing.T, c *mpi.Comm, nb bool) {
		if nb {
			wait(t)(mpi.Ibarrier(c))
		} else {
			require.NoError(t, mpi.Barrier(c))
		}
	})
}

func TestBcast(t *testing.T) {
	both(t, func(t *testing.T, c *mpi.Comm, nb bool) {
		for root := range c.Size() {
			buf := make([]float64, 33)
			if c.Rank() == root {
				buf = fill[float64](root, 33)
			}
			if nb {
				wait(t)(mpi.Ibcast(c, buf, root))
			} else {
				require.NoError(t, mpi.Bcast(c, buf, root))
			}
			assert.Equal(t, fill[float64](root, 33), buf)
		}
	})
}

func TestReduceAllreduce(t *testing.T) {
	both(t, func(t *testing.T, c *mpi.Comm, nb bool) {
		r, p := c.Rank(), c.Size()
		in := []int64{int64(r + 1), int64(10 * (r + 1)), -int64(r)}
		out := make([]int64, 3)
		if nb {
			wait(t)(mpi.Iallreduce(c, in, out, mpi.Sum))
		} else {
			require.NoError(t, mpi.Allreduce(c, in, out, mpi.Sum))
		}
		s := int64(p * (p + 1) / 2)
		assert.Equal(t, []int64{s, 10 * s, -s + int64(p)}, out)

		root := p - 1
		red := make([]int64, 3)
		if nb {
			wait(t)(mpi.Ireduce(c, in, red, mpi.Max, root))
		} else {
			require.NoError(t, mpi.Reduce(c, in, red, mpi.Max, root))
		}
		if r == root {
			assert.Equal(t, []int64{int64(p), int64(10 * p), 0}, red)
		} else {
			assert.Equal(t, []int64{0, 0, 0}, red, "non-root recv untouched")
		}

		buf := []float64{float64(r), 1}
		if nb {
			wait(t)(mpi.IallreduceInPlace(c, buf, mpi.Sum))
		} else {
			require.NoError(t, mpi.AllreduceInPlace(c, buf, mpi.Sum))
		}
		assert.Equal(t, []float64{float64(p * (p - 1) / 2), float64(p)}, buf)
	})
}

func TestReduceInPlaceAtRoot(t *testing.T) {
	c := mpi.World()
	buf := []int32{int32(c.Rank() + 2)}
	require.NoError(t, mpi.ReduceInPlace(c, buf, mpi.Prod, 0))
	if c.Rank() == 0 {
		want := int32(1)
		for r := range c.Size() {
			want *= int32(r + 2)
		}
		assert.Equal(t, want, buf[0])
	} else {
		assert.Equal(t, int32(c.Rank()+2), buf[0])
	}
}

func TestOps(t *testing.T) {
	c := mpi.World()
	r, p := c.Rank(), c.Size()
	check := func(op mpi.Op, in, want []int32) {
		out := make([]int32, len(in))
		require.NoError(t, mpi.Allreduce(c, in, out, op))
		assert.Equal(t, want, out, op.String())
	}
	check(mpi.Min, []int32{int32(r), int32(-r)}, []int32{0, int32(-(p - 1))})
	check(mpi.Land, []int32{int32(r % 2), 1}, []int32{0, 1})
	check(mpi.Lor, []int32{int32(r % 2), 0}, []int32{b2i(p > 1), 0})
	check(mpi.Band, []int32{0xff ^ int32(1<<r)}, []int32{0xff &^ int32(1<<p-1)})
	check(mpi.Bor, []int32{int32(1 << r)}, []int32{int32(1<<p - 1)})
	check(mpi.Bxor, []int32{int32(1 << r), 1}, []int32{int32(1<<p - 1), int32(p % 2)})
	check(mpi.Lxor, []int32{1}, []int32{int32(p % 2)})

	bools := []bool{r == 0}
	outb := make([]bool, 1)
	require.NoError(t, mpi.Allreduce(c, bools, outb, mpi.Lor))
	assert.True(t, outb[0])

	// MaxLoc and MinLoc carry the index of the winner.
	pair := []mpi.Float64Int{{Val: float64((r * 7) % p), Index: int32(r)}}
	got := make([]mpi.Float64Int, 1)
	require.NoError(t, mpi.Allreduce(c, pair, got, mpi.MaxLoc))
	best := 0
	for q := range p {
		if (q*7)%p > (best*7)%p {
			best = q
		}
	}
	assert.Equal(t, mpi.Float64Int{Val: float64((best * 7) % p), Index: int32(best)}, got[0])
	ip := []mpi.Int32Pair{{Val: int32(-r), Index: int32(r)}}
	gotp := make([]mpi.Int32Pair, 1)
	require.NoError(t, mpi.Allreduce(c, ip, gotp, mpi.MinLoc))
	assert.Equal(t, mpi.Int32Pair{Val: int32(-(p - 1)), Index: int32(p - 1)}, gotp[0])

	// An op the standard does not define on the type is refused before MPI
	// is called, naming both.
	err := mpi.Allreduce(c, []float64{1}, make([]float64, 1), mpi.Band)
	assert.ErrorIs(t, err, mpi.ErrOp)
	assert.ErrorContains(t, err, "MPI_BAND is not defined on MPI_DOUBLE")
	for name, err := range map[string]error{
		"sum on bool":          mpi.Allreduce(c, []bool{true}, make([]bool, 1), mpi.Sum),
		"sum on byte":          mpi.Allreduce(c, []byte{1}, make([]byte, 1), mpi.Sum),
		"max on complex":       mpi.Allreduce(c, []complex128{1}, make([]complex128, 1), mpi.Max),
		"land on float":        mpi.Allreduce(c, []float32{1}, make([]float32, 1), mpi.Land),
		"maxloc on float":      mpi.Allreduce(c, []float64{1}, make([]float64, 1), mpi.MaxLoc),
		"sum on pairs":         mpi.Allreduce(c, ip, gotp, mpi.Sum),
		"replace in reduce":    mpi.Reduce(c, []int32{1}, make([]int32, 1), mpi.Replace, 0),
		"reduce_scatter float": mpi.ReduceScatterBlock(c, make([]float64, p), make([]float64, 1), mpi.Bxor),
	} {
		assert.ErrorIs(t, err, mpi.ErrOp, name)
	}
	// The ones it defines pass the check (and run).
	for name, err := range map[string]error{
		"bxor on byte":  mpi.Allreduce(c, []byte{0xf0}, make([]byte, 1), mpi.Bxor),
		"lor on bool":   mpi.Allreduce(c, []bool{r == 0}, make([]bool, 1), mpi.Lor),
		"sum complex64": mpi.Allreduce(c, []complex64{1i}, make([]complex64, 1), mpi.Sum),
		"band on int64": mpi.Allreduce(c, []int64{-1}, make([]int64, 1), mpi.Band),
	} {
		assert.NoError(t, err, name)
	}
	assert.NoError(t, mpi.CheckOp[float64]("MPI_Accumulate", mpi.Replace, true))
	assert.ErrorIs(t, mpi.CheckOp[float64]("MPI_Allreduce", mpi.Replace, false), mpi.ErrOp)
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func TestGatherScatter(t *testing.T) {
	both(t, func(t *testing.T, c *mpi.Comm, nb bool) {
		r, p := c.Rank(), c.Size()
		for root := range p {
			send := fill[int32](r, 3)
			var recv []int32
			if r == root {
				recv = make([]int32, 3*p)
			}
			if nb {
				wait(t)(mpi.Igather(c, send, recv, root))
			} else {
				require.NoError(t, mpi.Gather(c, send, recv, root))
			}
			if r == root {
				for q := range p {
					assert.Equal(t, fill[int32](q, 3), recv[3*q:3*q+3])
				}
			}
			var all []float32
			if r == root {
				all = fill[float32](root, 2*p)
			}
			part := make([]float32, 2)
			if nb {
				wait(t)(mpi.Iscatter(c, all, part, root))
			} else {
				require.NoError(t, mpi.Scatter(c, all, part, root))
			}
			assert.Equal(t, fill[float32](root, 2*p)[2*r:2*r+2], part)
		}
	})
}

func TestAllgatherAlltoall(t *testing.T) {
	both(t, func(t *testing.T, c *mpi.Comm, nb bool) {
		r, p := c.Rank(), c.Size()
		recv := make([]complex128, 2*p)
		if nb {
			wait(t)(mpi.Iallgather(c, fill[complex128](r, 2), recv))
		} else {
			require.NoError(t, mpi.Allgather(c, fill[complex128](r, 2), recv))
		}
		for q := range p {
			assert.Equal(t, fill[complex128](q, 2), recv[2*q:2*q+2])
		}
		// Alltoall: block j of rank i's send holds (i, j); it lands as block i
		// on rank j.
		send := make([]int64, 2*p)
		for j := range p {
			send[2*j], send[2*j+1] = int64(r), int64(j)
		}
		got := make([]int64, 2*p)
		if nb {
			wait(t)(mpi.Ialltoall(c, send, got))
		} else {
			require.NoError(t, mpi.Alltoall(c, send, got))
		}
		for i := range p {
			assert.Equal(t, []int64{int64(i), int64(r)}, got[2*i:2*i+2])
		}
	})
}

func TestVectorCollectives(t *testing.T) {
	both(t, func(t *testing.T, c *mpi.Comm, nb bool) {
		r, p := c.Rank(), c.Size()
		// Rank q contributes q+1 elements; blocks are placed with a gap of
		// one element between them.
		counts := make([]int, p)
		displs := make([]int, p)
		total := 0
		for q := range p {
			counts[q] = q + 1
			displs[q] = total
			total += q + 2
		}
		mine := fill[float64](r, r+1)
		root := 0
		var gathered []float64
		if r == root {
			gathered = make([]float64, total)
		}
		if nb {
			wait(t)(mpi.Igatherv(c, mine, gathered, counts, displs, root))
		} else {
			require.NoError(t, mpi.Gatherv(c, mine, gathered, counts, displs, root))
		}
		if r == root {
			for q := range p {
				assert.Equal(t, fill[float64](q, q+1), gathered[displs[q]:displs[q]+counts[q]])
			}
		}
		all := make([]float64, total)
		if nb {
			wait(t)(mpi.Iallgatherv(c, mine, all, counts, displs))
		} else {
			require.NoError(t, mpi.Allgatherv(c, mine, all, counts, displs))
		}
		for q := range p {
			assert.Equal(t, fill[float64](q, q+1), all[displs[q]:displs[q]+counts[q]])
		}
		part := make([]float64, r+1)
		if nb {
			wait(t)(mpi.Iscatterv(c, all, counts, displs, part, root))
		} else {
			require.NoError(t, mpi.Scatterv(c, all, counts, displs, part, root))
		}
		assert.Equal(t, fill[float64](r, r+1), part)

		// Alltoallv: rank i sends j+1 elements valued 100*i+j to rank j
		// (packed, nil displacements).
		sc := make([]int, p)
		rc := make([]int, p)
		var send []int32
		for j := range p {
			sc[j] = j + 1
			rc[j] = r + 1
			for range j + 1 {
				send = append(send, int32(100*r+j))
			}
		}
		recv := make([]int32, p*(r+1))
		if nb {
			wait(t)(mpi.Ialltoallv(c, send, sc, nil, recv, rc, nil))
		} else {
			require.NoError(t, mpi.Alltoallv(c, send, sc, nil, recv, rc, nil))
		}
		for i := range p {
			for k := range r + 1 {
				assert.Equal(t, int32(100*i+r), recv[i*(r+1)+k])
			}
		}
	})
}

func TestReduceScatterAndScans(t *testing.T) {
	both(t, func(t *testing.T, c *mpi.Comm, nb bool) {
		r, p := c.Rank(), c.Size()
		send := make([]int32, 2*p)
		for i := range send {
			send[i] = int32(i + r)
		}
		recv := make([]int32, 2)
		if nb {
			wait(t)(mpi.IreduceScatterBlock(c, send, recv, mpi.Sum))
		} else {
			require.NoError(t, mpi.ReduceScatterBlock(c, send, recv, mpi.Sum))
		}
		tri := int32(p * (p - 1) / 2)
		assert.Equal(t, []int32{int32(p*2*r) + tri, int32(p*(2*r+1)) + tri}, recv)

		// Reduce_scatter with uneven counts: rank i gets i+1 elements
		// (rank 0 of a 1-rank job gets them all), and a zero count.
		counts := make([]int, p)
		total := 0
		for i := range counts {
			counts[i] = i + 1
			if p > 1 && i == p-1 {
				counts[i] = 0
			}
			total += counts[i]
		}
		vs := make([]float64, total)
		for i := range vs {
			vs[i] = float64(1000*r + i)
		}
		vr := make([]float64, counts[r])
		if nb {
			wait(t)(mpi.IreduceScatter(c, vs, vr, counts, mpi.Sum))
		} else {
			require.NoError(t, mpi.ReduceScatter(c, vs, vr, counts, mpi.Sum))
		}
		off := 0
		for i := range r {
			off += counts[i]
		}
		for k := range vr {
			assert.Equal(t, float64(1000*p*(p-1)/2+p*(off+k)), vr[k], "rank %d element %d", r, k)
		}

		in := []int64{int64(r + 1)}
		out := []int64{-7}
		if nb {
			wait(t)(mpi.Iscan(c, in, out, mpi.Sum))
		} else {
			require.NoError(t, mpi.Scan(c, in, out, mpi.Sum))
		}
		assert.Equal(t, int64((r+1)*(r+2)/2), out[0])
		out[0] = -7
		if nb {
			wait(t)(mpi.Iexscan(c, in, out, mpi.Sum))
		} else {
			require.NoError(t, mpi.Exscan(c, in, out, mpi.Sum))
		}
		if r > 0 {
			assert.Equal(t, int64(r*(r+1)/2), out[0])
		}
	})
}

func TestManyNonblockingCollectivesInFlight(t *testing.T) {
	c := mpi.World()
	p := c.Size()
	const k = 16
	ins := make([][]float64, k)
	outs := make([][]float64, k)
	reqs := make([]mpi.Request, k)
	for i := range k {
		ins[i] = []float64{float64(i), 1}
		outs[i] = make([]float64, 2)
		var err error
		reqs[i], err = mpi.Iallreduce(c, ins[i], outs[i], mpi.Sum)
		require.NoError(t, err)
	}
	require.NoError(t, mpi.Waitall(reqs, nil))
	for i := range k {
		assert.Equal(t, []float64{float64(i * p), float64(p)}, outs[i])
	}
}
