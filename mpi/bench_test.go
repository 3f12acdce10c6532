package mpi_test

import (
	"flag"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/mpi"
)

// pingPong bounces buf between ranks 0 and 1 of c; other ranks do nothing.
func pingPong(c *mpi.Comm, buf []byte) {
	switch c.Rank() {
	case 0:
		mpi.Send(c, buf, 1, 1)
		mpi.Recv(c, buf, 1, 1)
	case 1:
		mpi.Recv(c, buf, 0, 1)
		mpi.Send(c, buf, 0, 1)
	}
}

func isendWaitPingPong(c *mpi.Comm, buf []byte) {
	switch c.Rank() {
	case 0:
		r, _ := mpi.Isend(c, buf, 1, 2)
		r.Wait()
		r, _ = mpi.Irecv(c, buf, 1, 2)
		r.Wait()
	case 1:
		r, _ := mpi.Irecv(c, buf, 0, 2)
		r.Wait()
		r, _ = mpi.Isend(c, buf, 0, 2)
		r.Wait()
	}
}

// The hot path allocates nothing: blocking Send and Recv, and Isend, Irecv
// and Wait. testing.AllocsPerRun runs the same number of times on every
// rank, so the ranks stay in step.
func TestHotPathAllocatesNothing(t *testing.T) {
	c := mpi.World()
	if c.Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	buf := make([]byte, 8)
	allocs := testing.AllocsPerRun(200, func() { pingPong(c, buf) })
	assert.Zero(t, allocs, "allocations per Send+Recv round trip")
	allocs = testing.AllocsPerRun(200, func() { isendWaitPingPong(c, buf) })
	assert.Zero(t, allocs, "allocations per Isend/Irecv+Wait round trip")
	f := make([]float64, 4)
	allocs = testing.AllocsPerRun(50, func() { mpi.AllreduceInPlace(c, f, mpi.Sum) })
	assert.Zero(t, allocs, "allocations per Allreduce")
	reqs := make([]mpi.Request, 2)
	allocs = testing.AllocsPerRun(100, func() {
		if c.Rank() > 1 {
			return
		}
		o := 1 - c.Rank()
		reqs[0], _ = mpi.Irecv(c, buf[:4], o, 3)
		reqs[1], _ = mpi.Isend(c, buf[4:], o, 3)
		mpi.Waitall(reqs, nil)
	})
	assert.Zero(t, allocs, "allocations per Isend+Irecv+Waitall")
	require.NoError(t, mpi.Barrier(c))
}

// fixedIterations reports whether -test.benchtime fixes the iteration count
// (for example -benchtime=10000x). MPI benchmarks need every rank to run the
// same number of iterations; the default, time-based b.N differs by rank and
// would deadlock.
func fixedIterations(b *testing.B, minRanks int) {
	f := flag.Lookup("test.benchtime")
	if f == nil || !strings.HasSuffix(f.Value.String(), "x") {
		b.Skip("MPI benchmarks need a fixed iteration count: -benchtime=Nx")
	}
	if mpi.World().Size() < minRanks {
		b.Skipf("needs %d ranks", minRanks)
	}
}

func BenchmarkPingPong8B(b *testing.B) {
	fixedIterations(b, 2)
	c := mpi.World()
	buf := make([]byte, 8)
	b.SetBytes(int64(2 * len(buf)))
	b.ReportAllocs()
	mpi.Barrier(c)
	b.ResetTimer()
	for range b.N {
		pingPong(c, buf)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(2*b.N), "us/one-way")
}

func BenchmarkIsendWait8B(b *testing.B) {
	fixedIterations(b, 2)
	c := mpi.World()
	buf := make([]byte, 8)
	b.ReportAllocs()
	mpi.Barrier(c)
	b.ResetTimer()
	for range b.N {
		isendWaitPingPong(c, buf)
	}
}

func BenchmarkAllreduce1KiB(b *testing.B) {
	fixedIterations(b, 2)
	c := mpi.World()
	buf := make([]float64, 128)
	b.SetBytes(1024)
	b.ReportAllocs()
	mpi.Barrier(c)
	b.ResetTimer()
	for range b.N {
		mpi.AllreduceInPlace(c, buf, mpi.Max)
	}
}

// BenchmarkTestsome32 polls 32 posted receives that never complete, the
// progress loop's steady state in dagmpi/p2p. It runs on every rank alone.
func BenchmarkTestsome32(b *testing.B) {
	fixedIterations(b, 1)
	c := mpi.Self()
	reqs := make([]mpi.Request, 32)
	bufs := make([][]byte, 32)
	for i := range reqs {
		bufs[i] = make([]byte, 8)
		reqs[i], _ = mpi.Irecv(c, bufs[i], 0, i)
	}
	idx := make([]int, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		mpi.Testsome(reqs, idx, nil)
	}
	b.StopTimer()
	for i := range reqs {
		reqs[i].Cancel()
	}
	mpi.Waitall(reqs, nil)
}

// BenchmarkRequestSet32 is BenchmarkTestsome32 over a RequestSet, which
// keeps the handles where MPI reads them instead of copying them per call.
func BenchmarkRequestSet32(b *testing.B) {
	fixedIterations(b, 1)
	c := mpi.Self()
	var set mpi.RequestSet
	for i := 0; i < 32; i++ {
		r, err := mpi.Irecv(c, make([]byte, 8), 0, i)
		if err != nil {
			b.Fatal(err)
		}
		if err := set.Add(r); err != nil {
			b.Fatal(err)
		}
	}
	idx := make([]int, 32)
	st := make([]mpi.Status, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		set.TestsomeFor(idx, st, 0, nil)
	}
	b.StopTimer()
	// Complete the receives so nothing stays pending.
	for i := 0; i < 32; i++ {
		mpi.Send(c, make([]byte, 8), 0, i)
	}
	for set.Len() > 0 {
		k, _ := set.TestsomeFor(idx, st, time.Millisecond, nil)
		done := idx[:max(k, 0)]
		sort.Ints(done)
		for i := len(done) - 1; i >= 0; i-- {
			set.Delete(done[i])
		}
	}
}
