package mpi_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

// fill is the shared deterministic test data.
func fill[T mpi.Elem](rank, n int) []T { return mpitest.Fill[T](rank, n) }

// ring sends rank r's data to r+1 with Send/Recv (even ranks send first) and
// checks what arrives from r-1.
func ring[T mpi.Elem](t *testing.T, c *mpi.Comm, n int) {
	r, p := c.Rank(), c.Size()
	next, prev := (r+1)%p, (r+p-1)%p
	out := fill[T](r, n)
	in := make([]T, n)
	var st mpi.Status
	var err error
	if p == 1 {
		st, err = mpi.Sendrecv(c, out, next, 3, in, prev, 3)
	} else if r%2 == 0 {
		require.NoError(t, mpi.Send(c, out, next, 3))
		st, err = mpi.Recv(c, in, prev, 3)
	} else {
		st, err = mpi.Recv(c, in, prev, 3)
		require.NoError(t, err)
		require.NoError(t, mpi.Send(c, out, next, 3))
	}
	require.NoError(t, err)
	assert.Equal(t, prev, st.Source)
	assert.Equal(t, 3, st.Tag)
	assert.Equal(t, n, st.Count)
	assert.Equal(t, fill[T](prev, n), in)
}

func TestSendRecvTypes(t *testing.T) {
	for ci, c := range mpitest.Comms(t) {
		for _, n := range []int{0, 1, 7, 1000} {
			name := fmt.Sprintf("comm%d/n%d", ci, n)
			t.Run(name+"/byte", func(t *testing.T) { ring[byte](t, c, n) })
			t.Run(name+"/int32", func(t *testing.T) { ring[int32](t, c, n) })
			t.Run(name+"/int64", func(t *testing.T) { ring[int64](t, c, n) })
			t.Run(name+"/uint64", func(t *testing.T) { ring[uint64](t, c, n) })
			t.Run(name+"/float32", func(t *testing.T) { ring[float32](t, c, n) })
			t.Run(name+"/float64", func(t *testing.T) { ring[float64](t, c, n) })
			t.Run(name+"/complex128", func(t *testing.T) { ring[complex128](t, c, n) })
		}
	}
}

type celsius float64

func TestNamedElementType(t *testing.T) {
	c := mpi.World()
	in := []celsius{celsius(c.Rank()) + 0.5}
	out := make([]celsius, 1)
	require.NoError(t, mpi.Allreduce(c, in, out, mpi.Max))
	assert.Equal(t, celsius(c.Size()-1)+0.5, out[0])
}

func TestSsendAndSendrecv(t *testing.T) {
	for _, c := range mpitest.Comms(t) {
		r, p := c.Rank(), c.Size()
		next, prev := (r+1)%p, (r+p-1)%p
		in := make([]float64, 5)
		st, err := mpi.Sendrecv(c, fill[float64](r, 5), next, 11, in, prev, 11)
		require.NoError(t, err)
		assert.Equal(t, prev, st.Source)
		assert.Equal(t, fill[float64](prev, 5), in)

		buf := fill[int64](r, 9)
		st, err = mpi.SendrecvReplace(c, buf, next, 12, prev, 12)
		require.NoError(t, err)
		assert.Equal(t, 9, st.Count)
		assert.Equal(t, fill[int64](prev, 9), buf)

		if p >= 2 && r < 2 {
			// Ssend completes only once the receive has started; 0 and 1
			// exchange in an order that cannot deadlock.
			got := make([]int32, 3)
			if r == 0 {
				require.NoError(t, mpi.Ssend(c, fill[int32](0, 3), 1, 13))
				_, err = mpi.Recv(c, got, 1, 13)
			} else {
				_, err = mpi.Recv(c, got, 0, 13)
				require.NoError(t, err)
				require.NoError(t, mpi.Ssend(c, fill[int32](1, 3), 0, 13))
			}
			require.NoError(t, err)
			assert.Equal(t, fill[int32](1-r, 3), got)
		}
	}
}

func TestProcNull(t *testing.T) {
	c := mpi.World()
	require.NoError(t, mpi.Send(c, []int32{1}, mpi.ProcNull, 0))
	buf := []int32{42}
	st, err := mpi.Recv(c, buf, mpi.ProcNull, 0)
	require.NoError(t, err)
	assert.Equal(t, mpi.ProcNull, st.Source)
	assert.Equal(t, 0, st.Count)
	assert.Equal(t, int32(42), buf[0], "a receive from ProcNull leaves the buffer alone")
}

func TestNonblockingExchange(t *testing.T) {
	for _, c := range mpitest.Comms(t) {
		r, p := c.Rank(), c.Size()
		// Every rank sends a distinct message to every rank (itself
		// included) and receives with wildcards.
		reqs := make([]mpi.Request, 0, 2*p)
		ins := make([][]float64, p)
		for src := range p {
			ins[src] = make([]float64, 4)
			req, err := mpi.Irecv(c, ins[src], src, 100+src)
			require.NoError(t, err)
			reqs = append(reqs, req)
		}
		outs := make([][]float64, p)
		for dst := range p {
			outs[dst] = fill[float64](r*100+dst, 4)
			req, err := mpi.Isend(c, outs[dst], dst, 100+r)
			require.NoError(t, err)
			reqs = append(reqs, req)
		}
		st := make([]mpi.Status, len(reqs))
		require.NoError(t, mpi.Waitall(reqs, st))
		for src := range p {
			assert.Equal(t, fill[float64](src*100+r, 4), ins[src])
			assert.Equal(t, src, st[src].Source)
			assert.Equal(t, 100+src, st[src].Tag)
			assert.Equal(t, 4, st[src].Count)
		}
		for i := range reqs {
			assert.True(t, reqs[i].IsNull(), "request %d completed", i)
		}
	}
	assert.Equal(t, 0, mpi.PendingRequests())
}

func TestWildcardsAndProbe(t *testing.T) {
	mpitest.NeedRanks(t, 2)
	c := mpitest.Comms(t)[1]
	switch c.Rank() {
	case 1:
		require.NoError(t, mpi.Send(c, fill[int32](1, 6), 0, 77))
		require.NoError(t, mpi.Send(c, fill[float64](1, 3), 0, 78))
		require.NoError(t, mpi.Send(c, fill[byte](1, 300), 0, 79))
	case 0:
		st, err := mpi.Probe(c, mpi.AnySource, 77)
		require.NoError(t, err)
		assert.Equal(t, 1, st.Source)
		assert.Equal(t, 24, st.Count, "Probe counts bytes")
		buf := make([]int32, 6)
		st, err = mpi.Recv(c, buf, mpi.AnySource, mpi.AnyTag)
		require.NoError(t, err)
		assert.Equal(t, 77, st.Tag)
		assert.Equal(t, fill[int32](1, 6), buf)

		var ok bool
		for !ok {
			ok, st, err = mpi.Iprobe(c, 1, 78)
			require.NoError(t, err)
		}
		assert.Equal(t, 24, st.Count)
		msg, st, err := mpi.Mprobe(c, 1, 78)
		require.NoError(t, err)
		got := make([]float64, st.Count/8)
		st, err = mpi.Mrecv(msg, got)
		require.NoError(t, err)
		assert.Equal(t, fill[float64](1, 3), got)
		_, err = mpi.Mrecv(msg, got)
		assert.ErrorIs(t, err, mpi.ErrRequest, "a matched message is received once")

		any, st, err := mpi.RecvAny[byte](c, 1, mpi.AnyTag)
		require.NoError(t, err)
		assert.Equal(t, 79, st.Tag)
		assert.Equal(t, fill[byte](1, 300), any)
	}
	require.NoError(t, mpi.Barrier(c))
	m, _, err := mpi.Improbe(c, mpi.AnySource, mpi.AnyTag)
	require.NoError(t, err)
	assert.Nil(t, m, "no message is left")
}

func TestPersistentRequests(t *testing.T) {
	for _, c := range mpitest.Comms(t) {
		r, p := c.Rank(), c.Size()
		next, prev := (r+1)%p, (r+p-1)%p
		out := make([]int64, 3)
		in := make([]int64, 3)
		reqs := make([]mpi.Request, 2)
		var err error
		reqs[0], err = mpi.RecvInit(c, in, prev, 5)
		require.NoError(t, err)
		reqs[1], err = mpi.SendInit(c, out, next, 5)
		require.NoError(t, err)
		for iter := range 4 {
			for i := range out {
				out[i] = int64(r*100 + iter*10 + i)
			}
			require.NoError(t, mpi.Startall(reqs))
			require.NoError(t, mpi.Waitall(reqs, nil))
			assert.Equal(t, []int64{int64(prev*100 + iter*10), int64(prev*100 + iter*10 + 1), int64(prev*100 + iter*10 + 2)}, in)
			assert.False(t, reqs[0].IsNull(), "a persistent request stays allocated")
		}
		require.NoError(t, reqs[0].Free())
		require.NoError(t, reqs[1].Free())
		assert.ErrorIs(t, reqs[0].Free(), mpi.ErrRequest, "freeing twice")
		assert.ErrorIs(t, reqs[0].Start(), mpi.ErrRequest)
	}
	assert.Equal(t, 0, mpi.PendingRequests())
}

func TestCompletionFamilies(t *testing.T) {
	for _, c := range mpitest.Comms(t) {
		r, p := c.Rank(), c.Size()
		next, prev := (r+1)%p, (r+p-1)%p
		const k = 5
		send := make([][]int32, k)
		recv := make([][]int32, k)
		rreqs := make([]mpi.Request, k)
		sreqs := make([]mpi.Request, k)
		for i := range k {
			recv[i] = make([]int32, 2)
			var err error
			rreqs[i], err = mpi.Irecv(c, recv[i], prev, i)
			require.NoError(t, err)
		}
		for i := range k {
			send[i] = []int32{int32(r), int32(i)}
			var err error
			sreqs[i], err = mpi.Isend(c, send[i], next, i)
			require.NoError(t, err)
		}
		// Waitany completes the receives one at a time.
		seen := map[int]bool{}
		for range k - 2 {
			i, st, err := mpi.Waitany(rreqs)
			require.NoError(t, err)
			assert.False(t, seen[i])
			seen[i] = true
			assert.Equal(t, i, st.Tag)
			assert.Equal(t, []int32{int32(prev), int32(i)}, recv[i])
		}
		// Waitsome and Testsome complete the rest.
		idx := make([]int, k)
		st := make([]mpi.Status, k)
		for len(seen) < k {
			n, err := mpi.Waitsome(rreqs, idx, st)
			require.NoError(t, err)
			require.NotEqual(t, mpi.Undefined, n)
			for j := range n {
				assert.Equal(t, idx[j], st[j].Tag)
				seen[idx[j]] = true
			}
		}
		n, err := mpi.Testsome(rreqs, idx, nil)
		require.NoError(t, err)
		assert.Equal(t, mpi.Undefined, n, "every request is null now")
		i, st0, err := mpi.Waitany(rreqs)
		require.NoError(t, err)
		assert.Equal(t, mpi.Undefined, i)
		assert.Equal(t, mpi.AnySource, st0.Source, "empty status")
		// Testall and Testany on the sends.
		for {
			done, err := mpi.Testall(sreqs, nil)
			require.NoError(t, err)
			if done {
				break
			}
		}
		i, flag, _, err := mpi.Testany(sreqs)
		require.NoError(t, err)
		assert.True(t, flag)
		assert.Equal(t, mpi.Undefined, i)
		require.NoError(t, mpi.Barrier(c))
	}
	assert.Equal(t, 0, mpi.PendingRequests())
}

func TestRequestTestAndStaleCopies(t *testing.T) {
	c := mpi.World()
	r := c.Rank()
	buf := make([]float64, 2)
	rreq, err := mpi.Irecv(c, buf, r, 9)
	require.NoError(t, err)
	copyOf := rreq
	done, _, err := rreq.Test()
	require.NoError(t, err)
	assert.False(t, done, "nothing was sent yet")
	assert.Equal(t, 1, mpi.PendingRequests(), "an unfinished request is counted")
	require.NoError(t, mpi.Send(c, []float64{1, 2}, r, 9))
	for !done {
		var st mpi.Status
		done, st, err = rreq.Test()
		require.NoError(t, err)
		if done {
			assert.Equal(t, 2, st.Count)
		}
	}
	assert.Equal(t, []float64{1, 2}, buf)
	_, err = copyOf.Wait()
	assert.ErrorIs(t, err, mpi.ErrRequest, "waiting on a stale copy")
	assert.ErrorContains(t, err, "already completed")
	var zero mpi.Request
	_, err = zero.Wait()
	assert.NoError(t, err, "the null request completes at once")
	assert.ErrorIs(t, zero.Free(), mpi.ErrRequest, "freeing the null request")
	assert.ErrorIs(t, zero.Cancel(), mpi.ErrRequest)
	assert.Equal(t, 0, mpi.PendingRequests())
}

func TestCancelReceive(t *testing.T) {
	c := mpi.World()
	req, err := mpi.Irecv(c, make([]byte, 8), mpi.AnySource, 4242)
	require.NoError(t, err)
	require.NoError(t, req.Cancel())
	st, err := req.Wait()
	require.NoError(t, err)
	assert.True(t, st.Cancelled)
	assert.Equal(t, 0, mpi.PendingRequests())
}

func TestRequestFreeOfActiveRequest(t *testing.T) {
	c := mpi.World()
	r := c.Rank()
	req, err := mpi.Isend(c, []int32{7}, r, 31)
	require.NoError(t, err)
	copyOf := req
	require.NoError(t, req.Free())
	assert.True(t, req.IsNull())
	_, err = copyOf.Wait()
	assert.ErrorIs(t, err, mpi.ErrRequest, "Wait on a freed request")
	_, _, err = copyOf.Test()
	assert.ErrorIs(t, err, mpi.ErrRequest, "Test on a freed request")
	got := []int32{0}
	_, err = mpi.Recv(c, got, r, 31)
	require.NoError(t, err)
	assert.Equal(t, int32(7), got[0], "a freed send still completes")
	assert.Equal(t, 0, mpi.PendingRequests())
}

// TestTestsomeFor: TestsomeFor spins for its whole duration when nothing
// completes, stops early when its stop word is set (before or during the
// call), and returns as soon as a message arrives.
func TestTestsomeFor(t *testing.T) {
	c := mpi.World()
	r := c.Rank()
	buf := make([]int32, 2)
	reqs := make([]mpi.Request, 1)
	var err error
	reqs[0], err = mpi.Irecv(c, buf, r, 77)
	require.NoError(t, err)
	idx := make([]int, 1)
	st := make([]mpi.Status, 1)

	const d = 20 * time.Millisecond
	t0 := time.Now()
	n, err := mpi.TestsomeFor(reqs, idx, st, d, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, n, "nothing was sent")
	assert.GreaterOrEqual(t, time.Since(t0), d, "returned before its spin ended with nothing complete")

	var stop atomic.Uint32
	stop.Store(1)
	t0 = time.Now()
	n, err = mpi.TestsomeFor(reqs, idx, st, time.Minute, &stop)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	assert.Less(t, time.Since(t0), 10*time.Second, "a set stop word did not end the spin")

	stop.Store(0)
	go func() {
		time.Sleep(d)
		stop.Store(1)
	}()
	t0 = time.Now()
	n, err = mpi.TestsomeFor(reqs, idx, st, time.Minute, &stop)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	assert.Less(t, time.Since(t0), 10*time.Second, "a stop word set during the call did not end the spin")

	sreq, err := mpi.Isend(c, []int32{int32(r), 5}, r, 77)
	require.NoError(t, err)
	stop.Store(0)
	t0 = time.Now()
	for n == 0 && time.Since(t0) < 10*time.Second {
		n, err = mpi.TestsomeFor(reqs, idx, st, time.Minute, &stop)
		require.NoError(t, err)
	}
	assert.Less(t, time.Since(t0), 10*time.Second, "a message did not end the spin")
	require.Equal(t, 1, n)
	assert.Equal(t, 0, idx[0])
	assert.Equal(t, 77, st[0].Tag)
	assert.Equal(t, 2, st[0].Count)
	assert.Equal(t, []int32{int32(r), 5}, buf)
	assert.True(t, reqs[0].IsNull())
	_, err = sreq.Wait()
	require.NoError(t, err)
	assert.Equal(t, 0, mpi.PendingRequests())
}

// TestIsendTest: a send that IsendTest reports done has delivered its data
// and left nothing pending; one it does not (large, or a library that
// never completes at once) completes like an Isend's request.
func TestIsendTest(t *testing.T) {
	c := mpi.World()
	r := c.Rank()
	for _, n := range []int{1, 1 << 20} {
		in := make([]int64, n)
		rreq, err := mpi.Irecv(c, in, r, 78)
		require.NoError(t, err)
		out := fill[int64](r, n)
		sreq, done, err := mpi.IsendTest(c, out, r, 78)
		require.NoError(t, err)
		atOnce := done
		if done {
			assert.True(t, sreq.IsNull(), "n=%d: a finished send left a request", n)
		} else {
			assert.False(t, sreq.IsNull(), "n=%d: an unfinished send has no request", n)
		}
		for !done || !rreq.IsNull() {
			reqs := []mpi.Request{rreq, sreq}
			require.NoError(t, mpi.Waitall(reqs, nil))
			rreq, sreq, done = reqs[0], reqs[1], true
		}
		assert.Equal(t, out, in, "n=%d", n)
		t.Logf("%d int64 to self: done at once: %v", n, atOnce)
	}
	assert.Equal(t, 0, mpi.PendingRequests())
}
