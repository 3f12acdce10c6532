package cudaaware_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/internal/mpitest"
)

// copyTask is a task that copies src to dst on its stream.
func copyTask(dst, src cudaaware.Buffer[float64], used *[]cudaaware.Stream) func(cudaaware.Stream) error {
	return func(s cudaaware.Stream) error {
		*used = append(*used, s)
		return s.CopyDtoD(dst.Mem(), dst.Offset(), src.Mem(), src.Offset(), src.Bytes())
	}
}

// graphDeps runs, on k streams, a graph whose result is wrong if any
// dependency is missed: a chain x -> y -> z (RAW), an overwrite of x after
// its read (WAR), a second write of z after the first (WAW), and
// independent copies, which must land on different streams.
func graphDeps(t *testing.T, d cudaaware.Device, k, n int) {
	g, err := cudaaware.NewGraph(d, k)
	require.NoError(t, err)
	defer g.Close()
	buf := func(rank int) cudaaware.Buffer[float64] {
		b, err := cudaaware.Alloc[float64](d, n)
		require.NoError(t, err)
		require.NoError(t, cudaaware.Upload(b, mpitest.Fill[float64](rank, n)))
		t.Cleanup(func() { b.Free() })
		return b
	}
	x, y, z, w, v := buf(1), buf(2), buf(3), buf(4), buf(5)
	var used []cudaaware.Stream
	sub := func(dst, src cudaaware.Buffer[float64]) {
		require.NoError(t, g.Submit(copyTask(dst, src, &used), cudaaware.Reads(src), cudaaware.Writes(dst)))
	}
	sub(y, x) // y = x(1)
	sub(z, y) // z = y = 1 (RAW on y)
	sub(x, w) // x = w(4): after the read of x (WAR)
	sub(v, z) // v = z = 1 (RAW on z)
	sub(z, w) // z = 4: after the first write and the read of z (WAW, WAR)
	require.NoError(t, g.Wait())
	check := func(name string, b cudaaware.Buffer[float64], rank int) {
		got := make([]float64, n)
		require.NoError(t, cudaaware.Download(got, b))
		assert.Equal(t, mpitest.Fill[float64](rank, n), got, name)
	}
	check("x", x, 4)
	check("y", y, 1)
	check("z", z, 4)
	check("v", v, 1)

	// Independent tasks: round robin over the streams.
	used = used[:0]
	outs := make([]cudaaware.Buffer[float64], k)
	for i := range outs {
		outs[i] = buf(10 + i)
		sub(outs[i], w)
	}
	require.NoError(t, g.Wait())
	seen := map[cudaaware.Stream]bool{}
	for _, s := range used {
		seen[s] = true
	}
	assert.Len(t, seen, k, "independent tasks on distinct streams")
	for i := range outs {
		check("independent", outs[i], 4)
	}
}

func TestGraphHost(t *testing.T) {
	// Slow copies: a dependency left out lets a later copy overtake.
	d := cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: 2 * time.Millisecond})
	for _, k := range []int{1, 2, 4} {
		graphDeps(t, d, k, 100)
	}
}

func TestGPUGraph(t *testing.T) {
	d := gpu(t)
	for _, k := range []int{1, 2, 4, 8} {
		graphDeps(t, d, k, 1<<16)
	}
}

func TestGraphErrors(t *testing.T) {
	d := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	_, err := cudaaware.NewGraph(d, 0)
	assert.Error(t, err)
	g, err := cudaaware.NewGraph(d, 2)
	require.NoError(t, err)
	other := cudaaware.NewHostDevice(cudaaware.HostOptions{Name: "other"})
	ob, _ := cudaaware.Alloc[float64](other, 4)
	nop := func(cudaaware.Stream) error { return nil }
	assert.ErrorContains(t, g.Submit(nop, cudaaware.Reads(ob)), "buffer on other, graph on host stand-in")
	assert.ErrorContains(t, g.Submit(nop, cudaaware.Writes(cudaaware.Buffer[float64]{})), "zero Buffer")
	require.NoError(t, g.Close())
	assert.ErrorContains(t, g.Submit(nop), "closed")
}
