package mpi_test

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/mpi"
)

// TestRequestSet: receives and sends between every pair of ranks, held in a
// RequestSet and completed with its TestsomeFor; completed requests are
// deleted in the order the p2p transport uses (highest index first), so the
// indices of the requests still in flight move. Every message arrives whole,
// each completion is reported once with the right status, and nothing is
// left pending.
func TestRequestSet(t *testing.T) {
	c := mpi.World()
	me, np := c.Rank(), c.Size()
	const perPeer, n = 5, 3
	var set mpi.RequestSet
	type what struct {
		recv     bool
		peer, k  int
		buf      []int32
		finished bool
	}
	var meta []*what
	add := func(r mpi.Request, err error, w *what) {
		require.NoError(t, err)
		require.NoError(t, set.Add(r))
		meta = append(meta, w)
	}
	for p := 0; p < np; p++ {
		for k := 0; k < perPeer; k++ {
			in := make([]int32, n)
			r, err := mpi.Irecv(c, in, p, k)
			add(r, err, &what{recv: true, peer: p, k: k, buf: in})
		}
	}
	for p := 0; p < np; p++ {
		for k := perPeer - 1; k >= 0; k-- {
			out := []int32{int32(me), int32(p), int32(k)}
			r, err := mpi.Isend(c, out, p, k)
			add(r, err, &what{peer: p, k: k, buf: out})
		}
	}
	require.Equal(t, 2*np*perPeer, set.Len())
	idx := make([]int, set.Len())
	st := make([]mpi.Status, set.Len())
	deadline := time.Now().Add(30 * time.Second)
	for set.Len() > 0 {
		require.True(t, time.Now().Before(deadline), "rank %d: %d requests never completed", me, set.Len())
		k, err := set.TestsomeFor(idx, st, 50*time.Microsecond, nil)
		require.NoError(t, err)
		require.NotEqual(t, mpi.Undefined, k)
		done := append([]int(nil), idx[:k]...)
		for i, x := range done {
			w := meta[x]
			require.False(t, w.finished, "rank %d: index %d reported twice", me, x)
			w.finished = true
			assert.True(t, set.Null(x))
			if w.recv {
				assert.Equal(t, w.peer, st[i].Source)
				assert.Equal(t, w.k, st[i].Tag)
				assert.Equal(t, n, st[i].Count)
				assert.Equal(t, []int32{int32(w.peer), int32(me), int32(w.k)}, w.buf)
			}
		}
		sort.Ints(done)
		for i := len(done) - 1; i >= 0; i-- {
			x, last := done[i], set.Len()-1
			set.Delete(x)
			meta[x] = meta[last]
			meta = meta[:last]
		}
	}
	k, err := set.TestsomeFor(idx, st, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, mpi.Undefined, k, "an empty set")
	assert.Equal(t, 0, mpi.PendingRequests())
}

// TestRequestSetMisuse: what the set refuses, with errors that say why.
func TestRequestSetMisuse(t *testing.T) {
	c := mpi.Self()
	var set mpi.RequestSet
	err := set.Add(mpi.Request{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "null request")

	buf := make([]byte, 8)
	pr, err := mpi.RecvInit(c, buf, 0, 1)
	require.NoError(t, err)
	err = set.Add(pr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "persistent")
	require.NoError(t, pr.Free())

	r, err := mpi.Irecv(c, buf, 0, 2)
	require.NoError(t, err)
	stale := r
	require.NoError(t, set.Add(r))
	k, err := set.TestsomeFor(make([]int, 0), nil, 0, nil)
	require.Error(t, err, "indices too short")
	assert.Equal(t, 0, k)
	assert.Panics(t, func() { set.Delete(0) }, "deleting an active request")

	require.NoError(t, mpi.Send(c, []byte("12345678"), 0, 2))
	idx := make([]int, 1)
	for {
		k, err := set.TestsomeFor(idx, nil, time.Millisecond, nil)
		require.NoError(t, err)
		if k == 1 {
			break
		}
	}
	assert.Equal(t, "12345678", string(buf))
	set.Delete(0)
	assert.Equal(t, 0, set.Len())
	err = set.Add(stale)
	require.Error(t, err, "a copy of a request the set completed")
	assert.Contains(t, err.Error(), "stale")
	assert.Equal(t, 0, mpi.PendingRequests())
}
