package collective_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/spmd-go/spmd/collective"
	"github.com/spmd-go/spmd/mpi"
)

// TestBadInput: every check that needs no message fails alike on every
// rank, with the sentinel and a message naming the culprit.
func TestBadInput(t *testing.T) {
	x := newContext(t)
	n := x.Comm().Size()
	buf := make([]int32, 4)
	cases := []struct {
		name string
		err  error
		sub  string
		call func() (*collective.Op, error)
	}{
		{"empty members", collective.ErrMembers, "empty member list", func() (*collective.Op, error) {
			return collective.Bcast(x, buf, collective.Spec{Members: []int{}})
		}},
		{"rank outside", collective.ErrMembers, "members[1] = ", func() (*collective.Op, error) {
			return collective.Bcast(x, buf, collective.Spec{Members: []int{0, n}})
		}},
		{"negative rank", collective.ErrMembers, "members[0] = -1", func() (*collective.Op, error) {
			return collective.Allreduce(x, buf, buf, mpi.Sum, collective.Spec{Members: []int{-1}})
		}},
		{"duplicate", collective.ErrMembers, "appears twice", func() (*collective.Op, error) {
			return collective.Reduce(x, buf, buf, mpi.Sum, collective.Spec{Members: []int{0, 0}})
		}},
		{"root index", collective.ErrRoot, "root index 1 outside the 1 members", func() (*collective.Op, error) {
			return collective.Bcast(x, buf, collective.Spec{Members: []int{0}, Root: 1})
		}},
		{"negative root", collective.ErrRoot, "root index -1", func() (*collective.Op, error) {
			return collective.Reduce(x, buf, buf, mpi.Sum, collective.Spec{Root: -1})
		}},
		{"chunk", collective.ErrChunk, "chunk of -5 elements", func() (*collective.Op, error) {
			return collective.Bcast(x, buf, collective.Spec{Alg: collective.Chain, Chunk: -5})
		}},
		{"bcast by ring", collective.ErrAlgorithm, "ring does not implement Bcast", func() (*collective.Op, error) {
			return collective.Bcast(x, buf, collective.Spec{Alg: collective.Ring})
		}},
		{"allreduce by chain", collective.ErrAlgorithm, "chain does not implement Allreduce", func() (*collective.Op, error) {
			return collective.Allreduce(x, buf, buf, mpi.Sum, collective.Spec{Alg: collective.Chain})
		}},
		{"unknown algorithm", collective.ErrAlgorithm, "Algorithm(99)", func() (*collective.Op, error) {
			return collective.Bcast(x, buf, collective.Spec{Alg: 99})
		}},
		{"max of complex", collective.ErrOp, "MPI_MAX on complex128", func() (*collective.Op, error) {
			c := make([]complex128, 2)
			return collective.Allreduce(x, c, c, mpi.Max, collective.Spec{})
		}},
		{"band of float", collective.ErrOp, "MPI_BAND on float64", func() (*collective.Op, error) {
			f := make([]float64, 2)
			return collective.Reduce(x, f, f, mpi.Band, collective.Spec{})
		}},
		{"recv length", collective.ErrLength, "len(recv) = 3, want len(send) = 4", func() (*collective.Op, error) {
			return collective.Allreduce(x, buf, make([]int32, 3), mpi.Sum, collective.Spec{})
		}},
		{"alltoallv counts", collective.ErrLength, "len(sendCounts) = 0", func() (*collective.Op, error) {
			return collective.Alltoallv(x, buf, []int{}, nil, buf, make([]int, n), nil, collective.Spec{})
		}},
		{"alltoallv overrun", collective.ErrLength, "does not fit a buffer of 4 elements", func() (*collective.Op, error) {
			c := make([]int, n)
			c[0] = 5
			return collective.Alltoallv(x, buf, c, nil, make([]int32, 10), c, nil, collective.Spec{})
		}},
	}
	for _, c := range cases {
		op, err := c.call()
		assert.Nil(t, op, c.name)
		assert.ErrorIs(t, err, c.err, c.name)
		if err != nil {
			assert.Contains(t, err.Error(), c.sub, c.name)
		}
	}
	assert.Equal(t, 0, x.InFlight())

	_, err := collective.IndexOf([]int{2, 0}, n, 1)
	assert.ErrorIs(t, err, collective.ErrRoot)
	i, err := collective.IndexOf([]int{2, 0}, n, 0)
	assert.NoError(t, err)
	assert.Equal(t, 1, i)
	i, err = collective.IndexOf(nil, n, n-1)
	assert.NoError(t, err)
	assert.Equal(t, n-1, i)
	_, err = collective.IndexOf(nil, n, n)
	assert.ErrorIs(t, err, collective.ErrRoot)

	for _, a := range append(collective.BcastAlgorithms, collective.ReduceAlgorithms...) {
		b, err := collective.ParseAlgorithm(a.String())
		assert.NoError(t, err)
		assert.Equal(t, a, b)
	}
	_, err = collective.ParseAlgorithm("bogus")
	assert.ErrorIs(t, err, collective.ErrAlgorithm)

	_, err = collective.NewContext(x.Comm(), collective.Tags(-1, 4))
	assert.ErrorIs(t, err, collective.ErrTags)
	_, err = collective.NewContext(x.Comm(), collective.Tags(x.Comm().TagUB(), 2))
	assert.ErrorIs(t, err, collective.ErrTags)
	_, err = collective.NewContext(x.Comm(), collective.Tags(0, 0))
	assert.ErrorIs(t, err, collective.ErrTags)
	_, err = collective.NewContext(nil)
	assert.Error(t, err)
}

// TestLengthsDifferAcrossMembers: a receiver whose buffer is longer than
// the root's gets ErrLength naming both ranks; shorter gets MPI's
// truncation error. Ranks 0 and 1 only; the others are non-members.
func TestLengthsDifferAcrossMembers(t *testing.T) {
	x := newContext(t)
	if x.Comm().Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	me := x.Comm().Rank()
	for _, tc := range []struct {
		theirs int
		err    error
	}{{5, collective.ErrLength}, {3, mpi.ErrTruncate}} {
		for _, alg := range []collective.Algorithm{collective.Binomial, collective.Chain} {
			buf := make([]int32, 4)
			if me == 1 {
				buf = make([]int32, tc.theirs)
			}
			op, err := collective.Bcast(x, buf, collective.Spec{Members: []int{0, 1}, Alg: alg})
			if !assert.NoError(t, err) {
				continue
			}
			err = op.Wait()
			switch me {
			case 0:
				assert.NoError(t, err)
			case 1:
				assert.ErrorIs(t, err, tc.err, "%v: 4 elements into %d", alg, tc.theirs)
				if errors.Is(err, collective.ErrLength) {
					assert.Contains(t, err.Error(), "rank 1 received 4 elements from rank 0, expected 5")
				}
				assert.True(t, op.Done())
				assert.Equal(t, err, op.Err())
			default:
				assert.NoError(t, err)
				assert.False(t, op.Member())
			}
		}
	}
	assert.Equal(t, 0, x.InFlight())
}

// TestTagInUse: an operation whose tag an operation still in flight holds is
// refused. Rank 0 starts a broadcast from rank 1 that cannot finish before
// rank 1 joins (after a barrier), then a second operation on the same tag.
func TestTagInUse(t *testing.T) {
	x := newContext(t, collective.Tags(7, 2))
	w := x.Comm()
	if w.Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	me := w.Rank()
	buf := []int32{int32(me), 0}
	var a *collective.Op
	var err error
	if me == 0 {
		a, err = collective.Bcast(x, buf, collective.Spec{Members: []int{0, 1}, Root: 1, Seq: 1})
		assert.NoError(t, err)
		assert.Equal(t, 8, a.Tag())
		assert.Equal(t, 1, x.InFlight())
		_, err = collective.Bcast(x, make([]int32, 1), collective.Spec{Members: []int{0, 1}, Seq: 3})
		assert.ErrorIs(t, err, collective.ErrTags)
		if err != nil {
			assert.Contains(t, err.Error(), "tag 8, still used by sequence 1")
		}
	}
	assert.NoError(t, mpi.Barrier(w))
	if me == 1 {
		a, err = collective.Bcast(x, buf, collective.Spec{Members: []int{0, 1}, Root: 1, Seq: 1})
		assert.NoError(t, err)
	}
	if a != nil {
		assert.NoError(t, a.Wait())
		assert.Equal(t, []int32{1, 0}, buf)
	}
	assert.Equal(t, 0, x.InFlight())
	// The counter's tags stay in the range.
	for i := 0; i < 5; i++ {
		op, err := collective.Allreduce(x, buf, buf, mpi.Max, collective.Spec{})
		if assert.NoError(t, err) {
			assert.Contains(t, []int{7, 8}, op.Tag())
			assert.NoError(t, op.Wait())
		}
	}
}

type myFloat float64

// matchNative checks an allreduce of every algorithm against MPI's own.
func matchNative[T mpi.Elem](t *testing.T, x *collective.Context, op mpi.Op, send []T) {
	t.Helper()
	want := make([]T, len(send))
	assert.NoError(t, mpi.Allreduce(x.Comm(), send, want, op))
	for _, alg := range collective.AllreduceAlgorithms {
		got := make([]T, len(send))
		o, err := collective.Allreduce(x, send, got, op, collective.Spec{Alg: alg})
		if assert.NoError(t, err, "%v %v %T", alg, op, send) {
			assert.NoError(t, o.Wait())
			assert.Equal(t, want, got, "%v %v %T", alg, op, send)
		}
	}
}

// TestOpsMatchNative: the Go combine functions agree with MPI's predefined
// operations on several types (integer-valued floats, so exactly), named
// types and pairs with ties included.
func TestOpsMatchNative(t *testing.T) {
	x := newContext(t)
	r := x.Comm().Rank()
	const n = 9
	i8, u16, i64 := make([]int8, n), make([]uint16, n), make([]int64, n)
	f32, mf, c128 := make([]float32, n), make([]myFloat, n), make([]complex128, n)
	u32, bl := make([]uint32, n), make([]bool, n)
	loc, pair := make([]mpi.Float64Int, n), make([]mpi.Int32Pair, n)
	for i := 0; i < n; i++ {
		v := (r*7 + i*3) % 5
		i8[i], u16[i], i64[i] = int8(v-2), uint16(v*1000+i), int64(v)<<40-int64(i)
		f32[i], mf[i], c128[i] = float32(v)-1.5, myFloat(v*i), complex(float64(v), float64(-i))
		u32[i], bl[i] = uint32(v*0x01010101+i), (r+i)%3 == 0
		loc[i] = mpi.Float64Int{Val: float64(v % 3), Index: int32(r)}
		pair[i] = mpi.Int32Pair{Val: int32(v % 2), Index: int32(10 - r)}
	}
	for _, op := range []mpi.Op{mpi.Sum, mpi.Prod, mpi.Max, mpi.Min} {
		matchNative(t, x, op, i8)
		matchNative(t, x, op, u16)
		matchNative(t, x, op, i64)
		matchNative(t, x, op, f32)
		matchNative(t, x, op, mf)
	}
	matchNative(t, x, mpi.Sum, c128)
	matchNative(t, x, mpi.Prod, c128)
	for _, op := range []mpi.Op{mpi.Band, mpi.Bor, mpi.Bxor, mpi.Land, mpi.Lor, mpi.Lxor} {
		matchNative(t, x, op, u32)
	}
	for _, op := range []mpi.Op{mpi.Land, mpi.Lor, mpi.Lxor} {
		matchNative(t, x, op, bl)
	}
	for _, op := range []mpi.Op{mpi.MaxLoc, mpi.MinLoc} {
		matchNative(t, x, op, loc)
		matchNative(t, x, op, pair)
	}
}
