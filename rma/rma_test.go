package rma_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
	"github.com/spmd-go/spmd/rma"
)

// fill is the shared deterministic test data.
func fill[T mpi.Elem](rank, n int) []T { return mpitest.Fill[T](rank, n) }

// maker creates a window of n elements with one of the flavors that know
// their size.
type maker[T mpi.Elem] struct {
	name string
	make func(c *mpi.Comm, n int) (*rma.Window[T], error)
}

func makers[T mpi.Elem]() []maker[T] {
	m := []maker[T]{
		{"allocate", func(c *mpi.Comm, n int) (*rma.Window[T], error) { return rma.Allocate[T](c, n) }},
	}
	if createWorks() {
		m = append(m, maker[T]{"create", func(c *mpi.Comm, n int) (*rma.Window[T], error) { return rma.Create(c, make([]T, n)) }})
	}
	return m
}

// createWorks reports whether MPI_Win_create and MPI_Win_create_dynamic
// work in this job. Open MPI 4.1 fails them with MPI_ERR_WIN in a job of one
// process: its osc/rdma component needs a BTL between ranks, and osc/pt2pt
// refuses MPI_THREAD_MULTIPLE (a C program shows the same). Every rank
// sees the same facts, so skips based on it are collectively safe.
func createWorks() bool {
	return !(mpi.Implementation == "openmpi" && mpi.World().Size() == 1)
}

func ring(c *mpi.Comm) (left, right int) {
	r, p := c.Rank(), c.Size()
	return (r + p - 1) % p, (r + 1) % p
}

// fencePutGet: each rank puts its values into its right neighbour's window
// (at an offset, so the window edge is exercised), then gets its left
// neighbour's window back.
func fencePutGet[T mpi.Elem](t *testing.T) {
	const n, off = 7, 3
	for _, c := range mpitest.Comms(t) {
		for _, mk := range makers[T]() {
			name := fmt.Sprintf("%s/%s/%T", c, mk.name, *new(T))
			w, err := mk.make(c, n+off)
			require.NoError(t, err, name)
			left, right := ring(c)
			r := c.Rank()
			assert.NoError(t, w.Fence(), name)
			src := fill[T](r, n)
			assert.NoError(t, w.Put(src, right, off), name)
			assert.NoError(t, w.Fence(), name)
			assert.Equal(t, fill[T](left, n), w.Local()[off:], name)
			got := make([]T, n)
			assert.NoError(t, w.Get(got, left, off), name)
			assert.NoError(t, w.Fence(rma.NoSucceed), name)
			assert.Equal(t, fill[T]((left+c.Size()-1)%c.Size(), n), got, name)
			assert.Equal(t, n+off, w.Len(right), name)
			assert.NoError(t, w.Free(), name)
		}
	}
}

func TestFencePutGet(t *testing.T) {
	fencePutGet[float64](t)
	fencePutGet[int32](t)
	fencePutGet[complex128](t)
	fencePutGet[byte](t)
}

func TestAccumulate(t *testing.T) {
	const n = 5
	for _, c := range mpitest.Comms(t) {
		for _, mk := range makers[int64]() {
			w, err := mk.make(c, n)
			require.NoError(t, err)
			p, r := c.Size(), c.Rank()
			for i := range w.Local() {
				w.Local()[i] = 100
			}
			assert.NoError(t, w.Fence())
			// Every rank adds (r+1)*i to rank 0's window.
			add := make([]int64, n)
			for i := range add {
				add[i] = int64((r + 1) * i)
			}
			assert.NoError(t, w.Accumulate(add, 0, 0, mpi.Sum))
			assert.NoError(t, w.Fence())
			if r == 0 {
				for i, v := range w.Local() {
					assert.Equal(t, int64(100+i*p*(p+1)/2), v, "%s %s element %d", c, mk.name, i)
				}
			}
			assert.NoError(t, w.Fence())
			// GetAccumulate with NoOp is an atomic read; with Max it
			// fetches and combines, one rank after the other.
			old := make([]int64, n)
			assert.NoError(t, w.GetAccumulate(nil, old, 0, 0, mpi.NoOp))
			assert.NoError(t, w.Fence())
			if r == 0 {
				assert.Equal(t, w.Local(), old)
			}
			assert.NoError(t, mpi.Bcast(c, old, 0))
			assert.NoError(t, w.Fence(rma.NoSucceed))
			big := []int64{1 << 40}
			fetched := []int64{0}
			assert.NoError(t, w.Lock(0, true))
			assert.NoError(t, w.GetAccumulate(big, fetched, 0, n-1, mpi.Max))
			assert.NoError(t, w.Unlock(0))
			assert.Contains(t, []int64{old[n-1], 1 << 40}, fetched[0])
			assert.NoError(t, mpi.Barrier(c))
			if r == 0 {
				assert.Equal(t, int64(1<<40), w.Local()[n-1])
			}
			assert.NoError(t, w.Free())
		}
	}
}

func TestFetchAndOpCounter(t *testing.T) {
	for _, c := range mpitest.Comms(t) {
		w, err := rma.Allocate[int64](c, 1)
		require.NoError(t, err)
		w.Local()[0] = 0
		assert.NoError(t, mpi.Barrier(c))
		// Every rank takes a ticket from rank 0's counter.
		var ticket int64 = -1
		assert.NoError(t, w.LockAll())
		assert.NoError(t, w.FetchAndOp(1, &ticket, 0, 0, mpi.Sum))
		assert.NoError(t, w.FlushAll())
		assert.NoError(t, w.UnlockAll())
		all := make([]int64, c.Size())
		assert.NoError(t, mpi.Allgather(c, []int64{ticket}, all))
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		for i, v := range all {
			assert.Equal(t, int64(i), v, "%s: tickets %v", c, all)
		}
		// The counter holds the number of ranks: read it atomically.
		var cur int64
		assert.NoError(t, w.Lock(0, false))
		assert.NoError(t, w.FetchAndOp(0, &cur, 0, 0, mpi.NoOp))
		assert.NoError(t, w.Unlock(0))
		assert.Equal(t, int64(c.Size()), cur)
		assert.NoError(t, mpi.Barrier(c))
		assert.NoError(t, w.Free())
	}
}

// casBroken reports Open MPI releases whose osc/rdma component (the default
// for MPI_Win_allocate and MPI_Win_create windows) crashes in
// MPI_Compare_and_swap: 4.1.4 segfaults inside the library with a plain C
// program too (lock exclusive, compare-and-swap, unlock at 2 ranks), while
// osc/sm, osc/pt2pt and osc/ucx give the right answer. Every rank sees the
// same library, so the skip is collectively safe.
func casBroken() bool {
	v := mpi.LibraryVersion()
	return mpi.Implementation == "openmpi" && mpi.World().Size() > 1 &&
		(strings.Contains(v, "v4.1.0") || strings.Contains(v, "v4.1.1") || strings.Contains(v, "v4.1.2") ||
			strings.Contains(v, "v4.1.3") || strings.Contains(v, "v4.1.4"))
}

func TestCompareAndSwapElection(t *testing.T) {
	if casBroken() {
		t.Skipf("MPI_Compare_and_swap crashes in %s's osc/rdma (set OMPI_MCA_osc=sm,pt2pt to run this test)", strings.SplitN(mpi.LibraryVersion(), ",", 2)[0])
	}
	for _, c := range mpitest.Comms(t) {
		w, err := rma.Allocate[int64](c, 1)
		require.NoError(t, err)
		w.Local()[0] = -1
		assert.NoError(t, mpi.Barrier(c))
		var old int64
		assert.NoError(t, w.Lock(0, true))
		assert.NoError(t, w.CompareAndSwap(int64(c.Rank()), -1, &old, 0, 0))
		assert.NoError(t, w.Unlock(0))
		won := []int64{0}
		if old == -1 {
			won[0] = 1
		}
		total := []int64{0}
		assert.NoError(t, mpi.Allreduce(c, won, total, mpi.Sum))
		assert.Equal(t, int64(1), total[0], "%s: exactly one rank wins", c)
		winner := []int64{0}
		if won[0] == 1 {
			winner[0] = int64(c.Rank())
		}
		assert.NoError(t, mpi.AllreduceInPlace(c, winner, mpi.Sum))
		if c.Rank() == 0 {
			assert.Equal(t, winner[0], w.Local()[0])
		} else if won[0] == 0 {
			assert.Equal(t, winner[0], old)
		}
		assert.NoError(t, mpi.Barrier(c))
		assert.NoError(t, w.Free())
	}
}

func TestPostStartCompleteWait(t *testing.T) {
	const n = 6
	for _, c := range mpitest.Comms(t) {
		for _, mk := range makers[float64]() {
			w, err := mk.make(c, n)
			require.NoError(t, err)
			left, right := ring(c)
			// The left neighbour writes here; this rank writes to the right.
			assert.NoError(t, w.Post([]int{left}))
			assert.NoError(t, w.Start([]int{right}))
			assert.NoError(t, w.Put(fill[float64](c.Rank(), n), right, 0))
			assert.NoError(t, w.Complete())
			assert.NoError(t, w.Wait())
			assert.Equal(t, fill[float64](left, n), w.Local(), "%s %s", c, mk.name)
			// Second round: get from the right neighbour, with Test.
			assert.NoError(t, w.Post([]int{left}))
			assert.NoError(t, w.Start([]int{right}))
			got := make([]float64, n)
			assert.NoError(t, w.Get(got, right, 0))
			assert.NoError(t, w.Complete())
			for {
				done, err := w.Test()
				assert.NoError(t, err)
				if done || err != nil {
					break
				}
			}
			assert.Equal(t, fill[float64](c.Rank(), n), got, "%s %s", c, mk.name)
			assert.NoError(t, w.Free())
		}
	}
}

func TestLockFlush(t *testing.T) {
	const n = 4
	for _, c := range mpitest.Comms(t) {
		w, err := rma.Allocate[float64](c, n*c.Size())
		require.NoError(t, err)
		assert.NoError(t, mpi.Barrier(c))
		r := c.Rank()
		// Each rank writes its block of every rank's window under a shared
		// lock, flushing after each target.
		for target := 0; target < c.Size(); target++ {
			assert.NoError(t, w.Lock(target, false))
			assert.NoError(t, w.Put(fill[float64](r, n), target, r*n))
			assert.NoError(t, w.Flush(target))
			got := make([]float64, n)
			assert.NoError(t, w.Get(got, target, r*n))
			assert.NoError(t, w.FlushLocal(target))
			assert.Equal(t, fill[float64](r, n), got)
			assert.NoError(t, w.Unlock(target))
		}
		assert.NoError(t, mpi.Barrier(c))
		// Read the own window under an exclusive lock on self.
		assert.NoError(t, w.Lock(r, true))
		for src := 0; src < c.Size(); src++ {
			assert.Equal(t, fill[float64](src, n), w.Local()[src*n:(src+1)*n])
		}
		assert.NoError(t, w.Unlock(r))
		// Locks on several ranks at once.
		left, right := ring(c)
		assert.NoError(t, w.Lock(left, false))
		if right != left {
			assert.NoError(t, w.Lock(right, false))
		}
		a, b := make([]float64, n), make([]float64, n)
		assert.NoError(t, w.Get(a, left, 0))
		assert.NoError(t, w.Get(b, right, n*(c.Size()-1)))
		assert.NoError(t, w.FlushLocalAll())
		assert.Equal(t, fill[float64](0, n), a)
		assert.Equal(t, fill[float64](c.Size()-1, n), b)
		assert.NoError(t, w.Unlock(left))
		if right != left {
			assert.NoError(t, w.Unlock(right))
		}
		assert.NoError(t, mpi.Barrier(c))
		assert.NoError(t, w.Free())
	}
}

// TestPutNotify: each rank sends 50 messages to its right neighbour with
// PutNotify (data, a two-word head, a flag counting the messages), the
// neighbour waiting for each flag before it checks the data and the head and
// answers on a flag of its own; then the misuses.
func TestPutNotify(t *testing.T) {
	const n, rounds = 37, 50
	for _, c := range mpitest.Comms(t) {
		// Layout: data [0, n), head [n, n+2), flag n+2, ack n+3.
		w, err := rma.Allocate[int64](c, n+4)
		require.NoError(t, err)
		clear(w.Local())
		require.NoError(t, mpi.Barrier(c))
		require.NoError(t, w.LockAll())
		left, right := ring(c)
		r := c.Rank()
		mem := w.Local()
		wait := func(at int, v int64) error {
			for i := 0; ; i++ {
				if mpi.Implementation == "mpich" {
					// MPICH applies active-message puts in its progress engine.
					if _, _, err := mpi.Iprobe(c, mpi.AnySource, mpi.AnyTag); err != nil {
						return err
					}
				}
				if err := w.Sync(); err != nil {
					return err
				}
				if mem[at] == v {
					return nil
				}
				if i > 1e8 {
					return fmt.Errorf("word %d never became %d (is %d)", at, v, mem[at])
				}
			}
		}
		data := make([]int64, n)
		for k := int64(1); k <= rounds; k++ {
			for i := range data {
				data[i] = int64(r)*1000000 + k*1000 + int64(i)
			}
			head := []int64{int64(r), k * k}
			require.NoError(t, w.PutNotify(data, 0, head, n, []int64{k}, n+2, right), "round %d", k)
			require.NoError(t, wait(n+2, k), "round %d", k)
			for i := 0; i < n; i++ {
				if mem[i] != int64(left)*1000000+k*1000+int64(i) {
					t.Fatalf("%v: round %d: data[%d] = %d, want rank %d's", c, k, i, mem[i], left)
				}
			}
			require.Equal(t, []int64{int64(left), k * k}, mem[n:n+2], "round %d: head", k)
			// Acknowledge (no data, no head) so that left may overwrite.
			require.NoError(t, w.PutNotify(nil, 0, nil, 0, []int64{k}, n+3, left))
			require.NoError(t, wait(n+3, k), "round %d: ack", k)
		}
		one := []int64{1}
		assert.ErrorIs(t, w.PutNotify(data, 0, nil, 0, nil, 0, right), mpi.ErrCount, "empty flag")
		assert.ErrorIs(t, w.PutNotify(data, 0, nil, 0, one, n+4, right), mpi.ErrRMARange, "flag outside the window")
		assert.ErrorIs(t, w.PutNotify(data, 10, nil, 0, one, n+3, right), mpi.ErrRMARange, "data outside the window")
		assert.ErrorIs(t, w.PutNotify(data, 0, nil, 0, one, n+3, c.Size()), mpi.ErrRank, "rank outside the communicator")
		require.NoError(t, w.UnlockAll())
		require.NoError(t, mpi.Barrier(c))
		assert.ErrorIs(t, w.PutNotify(data, 0, nil, 0, one, n+3, right), mpi.ErrRMASync, "outside an epoch")
		require.NoError(t, w.Fence())
		assert.ErrorIs(t, w.PutNotify(data, 0, nil, 0, one, n+3, right), mpi.ErrRMASync, "in a fence epoch")
		// The refused call issued nothing: a passive epoch may follow the
		// fence at once.
		require.NoError(t, w.LockAll())
		require.NoError(t, w.UnlockAll())
		require.NoError(t, mpi.Barrier(c))
		assert.NoError(t, w.Free())
	}
}

func TestRequestOps(t *testing.T) {
	const n = 8
	for _, c := range mpitest.Comms(t) {
		w, err := rma.Allocate[int64](c, n)
		require.NoError(t, err)
		for i := range w.Local() {
			w.Local()[i] = 0
		}
		assert.NoError(t, mpi.Barrier(c))
		left, right := ring(c)
		r := c.Rank()
		assert.NoError(t, w.LockAll())
		q, err := w.Rput(fill[int64](r, n), right, 0)
		assert.NoError(t, err)
		if q != nil {
			assert.NoError(t, q.Wait())
			assert.True(t, q.Done())
			assert.NoError(t, q.Wait(), "waiting twice is a no-op")
		}
		assert.NoError(t, w.Flush(right))
		assert.NoError(t, w.UnlockAll())
		assert.NoError(t, mpi.Barrier(c))
		assert.NoError(t, w.LockAll())
		got := make([]int64, n)
		q, err = w.Rget(got, left, 0)
		assert.NoError(t, err)
		if q != nil {
			for {
				done, err := q.Test()
				assert.NoError(t, err)
				if done || err != nil {
					break
				}
			}
		}
		assert.Equal(t, fill[int64]((left+c.Size()-1)%c.Size(), n), got, "%s", c)
		assert.NoError(t, w.UnlockAll())
		assert.NoError(t, mpi.Barrier(c))
		// Every rank adds one to every element of rank 0, and fetches
		// element 0 of its right neighbour atomically.
		assert.NoError(t, w.LockAll())
		ones := []int64{1, 1, 1, 1, 1, 1, 1, 1}
		qa, err := w.Raccumulate(ones, 0, 0, mpi.Sum)
		assert.NoError(t, err)
		fetched := []int64{-1}
		qg, err := w.RgetAccumulate(nil, fetched, right, 0, mpi.NoOp)
		assert.NoError(t, err)
		assert.NoError(t, rma.WaitAll([]*rma.Request{qa, qg}))
		assert.NoError(t, w.UnlockAll())
		assert.NoError(t, mpi.Barrier(c))
		if r == 0 {
			want := fill[int64](c.Size()-1, n)
			for i := range want {
				want[i] += int64(c.Size())
			}
			assert.Equal(t, want, w.Local())
		}
		assert.Equal(t, 0, rma.PendingRequests())
		assert.NoError(t, mpi.Barrier(c))
		assert.NoError(t, w.Free())
	}
}

func TestShared(t *testing.T) {
	node, err := mpi.World().SplitShared(0)
	require.NoError(t, err)
	defer node.Free()
	const n = 16
	w, err := rma.AllocateShared[float64](node, n)
	require.NoError(t, err)
	r, p := node.Rank(), node.Size()
	assert.NoError(t, w.LockAll())
	copy(w.Local(), fill[float64](r, n))
	assert.NoError(t, w.Sync())
	assert.NoError(t, mpi.Barrier(node))
	assert.NoError(t, w.Sync())
	for q := 0; q < p; q++ {
		seg, err := w.SharedQuery(q)
		assert.NoError(t, err)
		assert.Equal(t, fill[float64](q, n), seg, "segment of rank %d", q)
	}
	assert.NoError(t, mpi.Barrier(node)) // everyone has read before anyone stores
	// Store into the right neighbour's segment directly.
	_, right := ring(node)
	seg, err := w.SharedQuery(right)
	assert.NoError(t, err)
	if len(seg) == n {
		seg[0] = -float64(r)
	}
	assert.NoError(t, w.Sync())
	assert.NoError(t, mpi.Barrier(node))
	assert.NoError(t, w.Sync())
	left, _ := ring(node)
	assert.Equal(t, -float64(left), w.Local()[0])
	assert.NoError(t, w.UnlockAll())
	// RMA operations work on shared windows too.
	assert.NoError(t, w.Fence())
	assert.NoError(t, w.Put([]float64{42}, right, n-1))
	assert.NoError(t, w.Fence(rma.NoSucceed))
	assert.Equal(t, 42.0, w.Local()[n-1])
	_, err = w.SharedQuery(p)
	assert.ErrorIs(t, err, mpi.ErrRank)
	assert.NoError(t, w.Free())
}

func TestDynamic(t *testing.T) {
	if !createWorks() {
		t.Skip("Open MPI cannot create dynamic windows in a job of one process")
	}
	const n = 5
	for _, c := range mpitest.Comms(t) {
		w, err := rma.CreateDynamic[float64](c)
		require.NoError(t, err)
		buf := make([]float64, n)
		a, err := w.Attach(buf)
		assert.NoError(t, err)
		addrs := make([]int64, c.Size())
		assert.NoError(t, mpi.Allgather(c, []int64{int64(a)}, addrs))
		left, right := ring(c)
		assert.Equal(t, -1, w.Len(right))
		assert.NoError(t, w.Fence())
		// Elements 1..n-1 of the right neighbour's buffer.
		assert.NoError(t, w.Put(fill[float64](c.Rank(), n-1), right, rma.At[float64](rma.Addr(addrs[right]), 1)))
		assert.NoError(t, w.Fence())
		assert.Equal(t, append([]float64{0}, fill[float64](left, n-1)...), buf, "%s", c)
		got := make([]float64, 2)
		assert.NoError(t, w.Get(got, left, rma.At[float64](rma.Addr(addrs[left]), 3)))
		assert.NoError(t, w.Fence(rma.NoSucceed))
		ll := (left + c.Size() - 1) % c.Size()
		assert.Equal(t, fill[float64](ll, n-1)[2:4], got)
		assert.NoError(t, w.Detach(buf))
		assert.ErrorIs(t, w.Detach(buf), mpi.ErrArg)
		assert.NoError(t, w.Free())
	}
}

// isRMAErr checks err's class and that its message names the window.
func isRMAErr(t *testing.T, err, class error, msgParts ...string) {
	t.Helper()
	if !assert.Error(t, err) {
		return
	}
	assert.True(t, errors.Is(err, class), "%v is not %v", err, class)
	for _, m := range msgParts {
		assert.True(t, strings.Contains(err.Error(), m), "%q does not mention %q", err.Error(), m)
	}
}

func TestMisuse(t *testing.T) {
	c := mpi.World()
	w, err := rma.Allocate[float64](c, 4)
	require.NoError(t, err)
	p, r := c.Size(), c.Rank()
	x := []float64{1, 2}

	// No epoch.
	isRMAErr(t, w.Put(x, 0, 0), mpi.ErrRMASync, "MPI_Put", "window", "rank 0", "no access epoch")
	isRMAErr(t, w.Get(x, 0, 0), mpi.ErrRMASync, "MPI_Get")
	var res float64
	isRMAErr(t, w.FetchAndOp(1, &res, 0, 0, mpi.Sum), mpi.ErrRMASync)
	isRMAErr(t, w.Complete(), mpi.ErrRMASync, "Start")
	isRMAErr(t, w.Wait(), mpi.ErrRMASync, "Post")
	isRMAErr(t, w.Unlock(0), mpi.ErrRMASync, "not locked")
	isRMAErr(t, w.UnlockAll(), mpi.ErrRMASync)
	isRMAErr(t, w.Flush(0), mpi.ErrRMASync, "passive")
	isRMAErr(t, w.FlushAll(), mpi.ErrRMASync)

	// Fence epoch: range checks, request-based ops refused.
	assert.NoError(t, w.Fence())
	isRMAErr(t, w.Put(x, p-1, 3), mpi.ErrRMARange, "[3, 5)", fmt.Sprintf("rank %d", p-1), "4 elements")
	isRMAErr(t, w.Get(make([]float64, 5), 0, 0), mpi.ErrRMARange)
	isRMAErr(t, w.Put(x, 0, -1), mpi.ErrDisp)
	isRMAErr(t, w.Put(x, p, 0), mpi.ErrRank)
	isRMAErr(t, w.Accumulate(x, 0, 0, mpi.Op(99)), mpi.ErrOp)
	isRMAErr(t, w.Accumulate(x, 0, 0, mpi.Band), mpi.ErrOp, "MPI_BAND is not defined on MPI_DOUBLE")
	isRMAErr(t, w.Accumulate(x, 0, 0, mpi.MaxLoc), mpi.ErrOp, "MPI_MAXLOC")
	_, err = w.Rput(x, 0, 0)
	isRMAErr(t, err, mpi.ErrRMASync, "passive")
	assert.NoError(t, w.Put(x, r, 0)) // uses the fence epoch
	isRMAErr(t, w.Lock(0, false), mpi.ErrRMASync, "NoSucceed")
	assert.NoError(t, w.Fence(rma.NoSucceed))

	// A fence that opened nothing does not block Lock.
	assert.NoError(t, w.Fence())
	assert.NoError(t, w.Lock(r, true))
	isRMAErr(t, w.Lock(r, false), mpi.ErrRMASync, "already locked")
	if p > 1 {
		other := (r + 1) % p
		isRMAErr(t, w.Put(x, other, 0), mpi.ErrRMASync, fmt.Sprintf("rank %d is not locked", other))
		isRMAErr(t, w.Flush(other), mpi.ErrRMASync)
	}
	isRMAErr(t, w.LockAll(), mpi.ErrRMASync, "Unlock")
	isRMAErr(t, w.Fence(), mpi.ErrRMASync) // found in Go on every rank: no MPI call
	isRMAErr(t, w.Free(), mpi.ErrRMASync, "still locked")
	assert.NoError(t, w.Unlock(r))

	// Start group: operations to ranks outside it are refused.
	assert.NoError(t, w.Post(nil))
	assert.NoError(t, w.Start(nil))
	isRMAErr(t, w.Put(x, r, 0), mpi.ErrRMASync, "not in the group")
	isRMAErr(t, w.Start(nil), mpi.ErrRMASync, "Complete")
	isRMAErr(t, w.Post(nil), mpi.ErrRMASync)
	assert.NoError(t, w.Complete())
	assert.NoError(t, w.Wait())
	isRMAErr(t, w.Start([]int{p}), mpi.ErrRank)
	isRMAErr(t, w.Post([]int{0, 0}), mpi.ErrGroup, "twice")

	// Freed window.
	assert.NoError(t, w.Free())
	isRMAErr(t, w.Put(x, 0, 0), mpi.ErrWin, "freed")
	isRMAErr(t, w.Fence(), mpi.ErrWin)
	isRMAErr(t, w.LockAll(), mpi.ErrWin)
	isRMAErr(t, w.Free(), mpi.ErrWin)
	assert.Nil(t, w.Local())

	// Wrong flavor.
	_, err = w.SharedQuery(0)
	isRMAErr(t, err, mpi.ErrWin)
	cw, err := rma.Allocate[float64](c, 1)
	require.NoError(t, err)
	_, err = cw.Attach(make([]float64, 1))
	isRMAErr(t, err, mpi.ErrWin, "not a dynamic window")
	_, err = cw.SharedQuery(0)
	isRMAErr(t, err, mpi.ErrWin, "not a shared-memory window")
	assert.NoError(t, cw.Free())

	_, err = rma.Allocate[float64](nil, 1)
	isRMAErr(t, err, mpi.ErrComm)
	_, err = rma.Allocate[float64](c, -1)
	isRMAErr(t, err, mpi.ErrSize)
}

// TestZeroSize: ranks may expose nothing; a zero-length window is still a
// window.
func TestZeroSize(t *testing.T) {
	c := mpi.World()
	n := 0
	if c.Rank() == 0 {
		n = 3
	}
	w, err := rma.Allocate[int32](c, n)
	require.NoError(t, err)
	assert.Len(t, w.Local(), n)
	for i := range w.Local() {
		w.Local()[i] = 0
	}
	assert.NoError(t, w.Fence())
	if c.Size() > 1 {
		isRMAErr(t, w.Put([]int32{1}, 1, 0), mpi.ErrRMARange)
	}
	// Every rank adds to rank 0's last element (accumulates may overlap;
	// puts may not).
	assert.NoError(t, w.Accumulate([]int32{int32(c.Rank() + 1)}, 0, 2, mpi.Sum))
	assert.NoError(t, w.Fence(rma.NoSucceed))
	if c.Rank() == 0 {
		p := int32(c.Size())
		assert.Equal(t, p*(p+1)/2, w.Local()[2])
	}
	assert.NoError(t, w.Free())
}
