package cudaaware_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

// needThreads skips (on every rank alike) when the tests' sender goroutines
// cannot call MPI concurrently with the receiving main goroutine. MPICH
// 4.0.2 (Debian 12) hangs when one thread waits in MPI_Wait for a send to
// itself while another waits in MPI_Recv for it (reproduced in plain C
// with pthreads), so at one rank, where the tests send to self, MPICH is
// skipped.
func needThreads(t *testing.T) {
	if mpi.Provided() < mpi.ThreadMultiple {
		t.Skipf("needs MPI_THREAD_MULTIPLE, the library gave %v", mpi.Provided())
	}
	if mpi.Implementation == "mpich" && mpi.World().Size() == 1 {
		t.Skip("MPICH hangs on a send to self waited in one thread while another thread receives it")
	}
}

// ringCase sends rank r's n values from device buffer to rank r+1 with
// the send options and receives rank r-1's with the receive options, the
// sender on a goroutine (so one rank sends to itself too), on host
// stand-in devices, and checks the data, the status and the copies the
// devices ran.
type ringCase struct {
	n          int
	send, recv cudaaware.Options
	delay      time.Duration // of both devices' copies
	rdelay     time.Duration // of the receiving device's copies only
	anySource  bool
}

func ring[T mpi.Elem](t *testing.T, c *mpi.Comm, rc ringCase) {
	r, p := c.Rank(), c.Size()
	next, prev := (r+1)%p, (r+p-1)%p
	sdev := cudaaware.NewHostDevice(cudaaware.HostOptions{Name: "send stand-in", CopyDelay: rc.delay, Log: true})
	rdev := cudaaware.NewHostDevice(cudaaware.HostOptions{Name: "recv stand-in", CopyDelay: max(rc.delay, rc.rdelay), Log: true})
	sp, err := cudaaware.NewPipeline(sdev, rc.send)
	require.NoError(t, err)
	defer sp.Close()
	rp, err := cudaaware.NewPipeline(rdev, rc.recv)
	require.NoError(t, err)
	defer rp.Close()

	// Padding on both sides of the received range shows stray writes.
	const pad = 3
	out, err := cudaaware.Alloc[T](sdev, rc.n)
	require.NoError(t, err)
	in, err := cudaaware.Alloc[T](rdev, rc.n+2*pad)
	require.NoError(t, err)
	require.NoError(t, cudaaware.Upload(out, mpitest.Fill[T](r, rc.n)))
	canary := mpitest.Fill[T](99, rc.n+2*pad)
	require.NoError(t, cudaaware.Upload(in, canary))
	sdev.Copies()
	rdev.Copies()

	const tag = 5
	sent := make(chan error, 1)
	go func() { sent <- cudaaware.SendDevice(sp, c, out, next, tag) }()
	src, tg := prev, tag
	if rc.anySource {
		src, tg = mpi.AnySource, mpi.AnyTag
	}
	st, err := cudaaware.RecvDevice(rp, c, in.Slice(pad, pad+rc.n), src, tg)
	assert.NoError(t, err)
	assert.NoError(t, <-sent)
	assert.Equal(t, prev, st.Source)
	assert.Equal(t, tag, st.Tag)
	assert.Equal(t, rc.n, st.Count)

	rcopies := rdev.Copies()
	scopies := sdev.Copies()
	got := make([]T, rc.n+2*pad)
	require.NoError(t, cudaaware.Download(got, in))
	want := append(append(append([]T{}, canary[:pad]...), mpitest.Fill[T](prev, rc.n)...), canary[pad+rc.n:]...)
	assert.Equal(t, want, got)

	// The copies the pipelines made: none on a direct path; on a staged
	// path, one per chunk, in order, each chunk's bytes at its offset.
	esz := mpi.ElemSize[T]()
	check := func(name string, copies []cudaaware.CopyRecord, kind cudaaware.CopyKind, base int, per int) {
		if per == 0 {
			assert.Empty(t, copies, "%s: a direct transfer copies nothing", name)
			return
		}
		nch := (rc.n + per - 1) / per
		if !assert.Len(t, copies, nch, "%s: one copy per chunk", name) {
			return
		}
		for k, cp := range copies {
			m := min(per, rc.n-k*per)
			cp = cudaaware.CopyRecord{Kind: cp.Kind, Off: cp.Off, Bytes: cp.Bytes} // not the stream and times
			assert.Equal(t, cudaaware.CopyRecord{Kind: kind, Off: base + k*per*esz, Bytes: m * esz}, cp, "%s: chunk %d", name, k)
		}
	}
	sendPer := 0
	if sp.Path() == cudaaware.Staged {
		sendPer = max(1, sp.ChunkBytes()/esz)
	}
	recvPer := 0
	if rp.Path() == cudaaware.Staged {
		// The receiver follows the sender's chunks; a direct sender sends one.
		recvPer = sendPer
		if sendPer == 0 {
			recvPer = max(1, rc.n)
		}
	}
	check("send", scopies, cudaaware.DtoH, 0, sendPer)
	check("recv", rcopies, cudaaware.HtoD, pad*esz, recvPer)
}

func TestPipelineRing(t *testing.T) {
	needThreads(t)
	c, err := mpi.World().Dup()
	require.NoError(t, err)
	defer c.Free()
	staged := func(chunk, depth int) cudaaware.Options {
		return cudaaware.Options{Path: cudaaware.Staged, ChunkBytes: chunk, Depth: depth}
	}
	direct := cudaaware.Options{Path: cudaaware.Direct}
	cases := map[string]ringCase{}
	for _, n := range []int{0, 1, 7, 1000, 4099} {
		for _, chunk := range []int{8, 8*3 + 1, 4096, 0} {
			cases[fmt.Sprintf("n%d/chunk%d", n, chunk)] = ringCase{n: n, send: staged(chunk, 0), recv: staged(chunk, 0)}
		}
		cases[fmt.Sprintf("n%d/direct", n)] = ringCase{n: n, send: direct, recv: direct}
		cases[fmt.Sprintf("n%d/staged-to-direct", n)] = ringCase{n: n, send: staged(80, 3), recv: direct}
		cases[fmt.Sprintf("n%d/direct-to-staged", n)] = ringCase{n: n, send: direct, recv: staged(80, 2)}
		cases[fmt.Sprintf("n%d/chunks-differ", n)] = ringCase{n: n, send: staged(800, 2), recv: staged(64, 4)}
	}
	// Slow copies: a chunk sent before its copy finished, or a staging slot
	// refilled before its send or copy finished, shows as wrong data.
	cases["slow/n1000/chunk800"] = ringCase{n: 1000, send: staged(800, 2), recv: staged(800, 2), delay: 2 * time.Millisecond}
	cases["slow/n1000/depth3"] = ringCase{n: 1000, send: staged(1600, 3), recv: staged(1600, 3), delay: 2 * time.Millisecond}
	cases["slow-recv/n1000/chunk800"] = ringCase{n: 1000, send: staged(800, 2), recv: staged(800, 2), rdelay: 3 * time.Millisecond}
	cases["anysource/n1000"] = ringCase{n: 1000, send: staged(800, 2), recv: staged(800, 2), anySource: true}
	for _, name := range sortedKeys(cases) {
		t.Run(name+"/float64", func(t *testing.T) { ring[float64](t, c, cases[name]) })
	}
	for _, n := range []int{0, 5, 333} {
		rc := ringCase{n: n, send: staged(64, 2), recv: staged(64, 2)}
		t.Run(fmt.Sprintf("n%d/byte", n), func(t *testing.T) { ring[byte](t, c, rc) })
		t.Run(fmt.Sprintf("n%d/int32", n), func(t *testing.T) { ring[int32](t, c, rc) })
		t.Run(fmt.Sprintf("n%d/complex128", n), func(t *testing.T) { ring[complex128](t, c, rc) })
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// TestPipelineErrors: a message that does not fit, or has another element
// size, is drained and reported, and the next transfer on the same tag
// still works; misuse of a pipeline is an error naming it.
func TestPipelineErrors(t *testing.T) {
	needThreads(t)
	c, err := mpi.World().Dup()
	require.NoError(t, err)
	defer c.Free()
	r, p := c.Rank(), c.Size()
	next, prev := (r+1)%p, (r+p-1)%p
	d := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	opt := cudaaware.Options{Path: cudaaware.Staged, ChunkBytes: 64}
	sp, err := cudaaware.NewPipeline(d, opt)
	require.NoError(t, err)
	defer sp.Close()
	rp, err := cudaaware.NewPipeline(d, opt)
	require.NoError(t, err)
	defer rp.Close()
	out, _ := cudaaware.Alloc[float64](d, 100)
	small, _ := cudaaware.Alloc[float64](d, 99)
	ints, _ := cudaaware.Alloc[int32](d, 100)
	require.NoError(t, cudaaware.Upload(out, mpitest.Fill[float64](r, 100)))

	exchange := func(recv func() error) error {
		sent := make(chan error, 1)
		go func() { sent <- cudaaware.SendDevice(sp, c, out, next, 7) }()
		err := recv()
		assert.NoError(t, <-sent, "the sender completes whatever the receiver found")
		return err
	}
	var st mpi.Status
	err = exchange(func() error { st, err = cudaaware.RecvDevice(rp, c, small, prev, 7); return err })
	assert.True(t, errors.Is(err, mpi.ErrTruncate), "100 elements into 99: %v", err)
	assert.Equal(t, 100, st.Count, "the message's length")
	assert.ErrorContains(t, err, "does not fit a buffer of 99")
	err = exchange(func() error { _, err := cudaaware.RecvDevice(rp, c, ints, prev, 7); return err })
	assert.True(t, errors.Is(err, mpi.ErrType), "float64 into int32: %v", err)
	// Nothing was left behind: the same tag carries a good transfer.
	big, _ := cudaaware.Alloc[float64](d, 120)
	err = exchange(func() error { st, err = cudaaware.RecvDevice(rp, c, big, prev, 7); return err })
	assert.NoError(t, err)
	assert.Equal(t, 100, st.Count, "a shorter message is fine, as with MPI_Recv")
	got := make([]float64, 120)
	require.NoError(t, cudaaware.Download(got, big))
	assert.Equal(t, mpitest.Fill[float64](prev, 100), got[:100])

	// A message that SendDevice did not send.
	go func() { mpi.Send(c, []int64{1, 2, 3, 4, 5}, next, 8) }()
	_, err = cudaaware.RecvDevice(rp, c, big, prev, 8)
	assert.True(t, errors.Is(err, mpi.ErrTruncate), "a foreign message: %v", err)
	go func() { mpi.Send(c, []int64{1, 2, 3, 4}, next, 10) }()
	_, err = cudaaware.RecvDevice(rp, c, big, prev, 10)
	assert.ErrorContains(t, err, "not a SendDevice header", "a foreign message of a header's length")

	// ProcNull: nothing is sent or received, as with MPI.
	assert.NoError(t, cudaaware.SendDevice(sp, c, out, mpi.ProcNull, 11))
	st, err = cudaaware.RecvDevice(rp, c, big, mpi.ProcNull, 11)
	assert.NoError(t, err)
	assert.Equal(t, mpi.ProcNull, st.Source)
	assert.Equal(t, 0, st.Count)

	// Local misuse.
	other := cudaaware.NewHostDevice(cudaaware.HostOptions{Name: "other"})
	ob, _ := cudaaware.Alloc[float64](other, 4)
	assert.ErrorContains(t, cudaaware.SendDevice(sp, c, ob, next, 9), "buffer on other, pipeline on host stand-in")
	assert.ErrorContains(t, cudaaware.SendDevice(sp, c, cudaaware.Buffer[float64]{}, next, 9), "zero Buffer")
	_, err = cudaaware.NewPipeline(d, cudaaware.Options{Depth: 1})
	assert.ErrorContains(t, err, "Depth 1")
	_, err = cudaaware.NewPipeline(nil, cudaaware.Options{})
	assert.Error(t, err)
	cp, _ := cudaaware.NewPipeline(d, opt)
	require.NoError(t, cp.Close())
	assert.ErrorContains(t, cudaaware.SendDevice(cp, c, out, next, 9), "closed")
	err = cudaaware.SendDevice(sp, c, out, p, 9)
	assert.True(t, errors.Is(err, mpi.ErrRank), "rank out of range: %v", err)
	assert.NoError(t, mpi.Barrier(c))
}

// TestDetect checks the environment override and that, without it, the
// answer comes from the library and is the same on every rank.
func TestDetect(t *testing.T) {
	old, had := os.LookupEnv(cudaaware.EnvAware)
	defer func() {
		if had {
			os.Setenv(cudaaware.EnvAware, old)
		} else {
			os.Unsetenv(cudaaware.EnvAware)
		}
	}()
	os.Setenv(cudaaware.EnvAware, "1")
	s := cudaaware.MPISupport()
	assert.True(t, s.Aware)
	assert.Equal(t, "SPMD_CUDA_AWARE=1", s.Source)
	os.Setenv(cudaaware.EnvAware, "false")
	assert.False(t, cudaaware.MPISupport().Aware)
	os.Setenv(cudaaware.EnvAware, "maybe")
	s = cudaaware.MPISupport()
	assert.Contains(t, s.Source, `SPMD_CUDA_AWARE="maybe" is not a boolean`)
	os.Unsetenv(cudaaware.EnvAware)
	s = cudaaware.MPISupport()
	assert.Contains(t, s.Source, "MPIX_Query_cuda_support", "Open MPI and MPICH 4 both export it")
	t.Logf("MPISupport: %v", s)
	a := int32(0)
	if s.Aware {
		a = 1
	}
	lo, hi := []int32{0}, []int32{0}
	require.NoError(t, mpi.Allreduce(mpi.World(), []int32{a}, lo, mpi.Min))
	require.NoError(t, mpi.Allreduce(mpi.World(), []int32{a}, hi, mpi.Max))
	assert.Equal(t, lo, hi, "ranks disagree on CUDA-awareness")
	// Auto follows the answer.
	os.Setenv(cudaaware.EnvAware, "1")
	pl, err := cudaaware.NewPipeline(cudaaware.NewHostDevice(cudaaware.HostOptions{}), cudaaware.Options{})
	require.NoError(t, err)
	assert.Equal(t, cudaaware.Direct, pl.Path())
	pl.Close()
	os.Setenv(cudaaware.EnvAware, "0")
	pl, err = cudaaware.NewPipeline(cudaaware.NewHostDevice(cudaaware.HostOptions{}), cudaaware.Options{})
	require.NoError(t, err)
	assert.Equal(t, cudaaware.Staged, pl.Path())
	assert.True(t, strings.HasPrefix(s.String(), "MPI"))
	pl.Close()
}

// TestPipelineAllocations counts heap allocations per round trip of 8
// bytes between ranks 0 and 1: none on the direct path (the pipeline
// reuses its header and request memory). The staged path's are logged
// only: most are the host stand-in's (a channel per event record, a
// closure per queued copy), which a GPU does not make. AllocsPerRun runs
// the same number of times on every rank.
func TestPipelineAllocations(t *testing.T) {
	c := mpi.World()
	if c.Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	d := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	for _, path := range []cudaaware.Path{cudaaware.Direct, cudaaware.Staged} {
		p, err := cudaaware.NewPipeline(d, cudaaware.Options{Path: path})
		require.NoError(t, err)
		buf, _ := cudaaware.Alloc[float64](d, 1)
		allocs := testing.AllocsPerRun(50, func() {
			switch c.Rank() {
			case 0:
				cudaaware.SendDevice(p, c, buf, 1, 1)
				cudaaware.RecvDevice(p, c, buf, 1, 1)
			case 1:
				cudaaware.RecvDevice(p, c, buf, 0, 1)
				cudaaware.SendDevice(p, c, buf, 0, 1)
			}
		})
		t.Logf("%v: %v allocations per round trip", path, allocs)
		if path == cudaaware.Direct && c.Rank() < 2 {
			assert.Zero(t, allocs, "allocations per direct round trip")
		}
		p.Close()
	}
}
