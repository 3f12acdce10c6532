package mux_test

import (
	"errors"
	"fmt"
	"math/bits"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/internal/randgraph"
	"github.com/spmd-go/spmd/dagmpi/mux"
	"github.com/spmd-go/spmd/dagmpi/onesided"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/dagmpi/transporttest"
	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

func TestMain(m *testing.M) { mpitest.Main(m) }

// alternating routes every other size class one-sided, so that messages of
// neighbouring sizes with the same tag take different transports.
func alternating() (r [32]bool) {
	for c := range r {
		r[c] = c%2 == 1
	}
	return r
}

// run runs the conformance cases except short-and-long-messages: Auto
// routes a message by its size and a receive by its buffer's, so it
// supports only receives of the exact size, which is all the runtime posts
// (see the package comment).
func run(t *testing.T, newTransport func(t *testing.T) dagmpi.Transport) {
	for _, c := range transporttest.Cases() {
		if c.Name == "short-and-long-messages" || c.Name == "loans-short-and-long" {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			tr := newTransport(t)
			if err := c.Run(tr); err != nil {
				t.Fatalf("rank %d: %v", tr.Rank(), err)
			}
		})
	}
}

func TestConformance(t *testing.T) {
	t.Run("calibrated", func(t *testing.T) {
		// Calibrate once; the cases reuse the measured routing.
		tr, err := mux.NewAuto(mpi.World())
		if err != nil {
			t.Fatal(err)
		}
		routes := tr.Routes()
		peer, remote := tr.Calibrated()
		t.Logf("routing: %s (calibrated in %v with rank %d, other node %v)", tr.Describe(), tr.Calibration(), peer, remote)
		if w := mpi.World(); w.Size() >= 2 {
			// mpitest runs every rank on this machine: one node.
			assert.Equal(t, 1, peer, "calibration peer on one node")
			assert.False(t, remote)
		}
		assert.NoError(t, tr.Close())
		run(t, func(t *testing.T) dagmpi.Transport {
			tr, err := mux.NewAutoRoutes(mpi.World(), routes)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tr.Close() })
			return tr
		})
	})
	for _, c := range []struct {
		name   string
		routes [32]bool
	}{
		{"alternating", alternating()},
		// Everything point-to-point: the one-sided transport is closed.
		{"p2p", [32]bool{}},
		// Everything one-sided: Spin cannot hand over to p2p's and must
		// poll until something completes (the calibration picks this
		// route for small messages on some runs).
		{"one-sided", [32]bool{0: true, 1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true,
			9: true, 10: true, 11: true, 12: true, 13: true, 14: true, 15: true, 16: true, 17: true, 18: true,
			19: true, 20: true, 21: true, 22: true, 23: true, 24: true, 25: true, 26: true, 27: true, 28: true,
			29: true, 30: true, 31: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run(t, func(t *testing.T) dagmpi.Transport {
				tr, err := mux.NewAutoRoutes(mpi.World(), c.routes)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { tr.Close() })
				return tr
			})
		})
	}
}

// TestCollective runs random graphs on the "collective" runtime mode:
// versions read by several ranks move along broadcast trees over MPI.
func TestCollective(t *testing.T) {
	w := mpi.World()
	for seed := int64(1); seed <= 3; seed++ {
		rt, err := mux.NewRuntime(w, "collective", dagmpi.WithWorkers(2), dagmpi.WithWatchdog(60*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		s := randgraph.New(seed, w.Size(), 6, 200)
		err = s.Check(rt, false)
		if cerr := rt.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Error(err)
		}
	}
	_, err := mux.NewRuntime(w, "collective", dagmpi.WithPruned())
	assert.Error(t, err, "collective with WithPruned")
}

func TestRandomGraphs(t *testing.T) {
	w := mpi.World()
	for seed := int64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			tr, err := mux.NewAutoRoutes(w, alternating())
			if err != nil {
				t.Fatal(err)
			}
			opts := []dagmpi.Option{dagmpi.WithWorkers(2), dagmpi.WithWatchdog(60 * time.Second), dagmpi.WithOwnedTransport()}
			if seed%2 == 0 {
				opts = append(opts, dagmpi.WithPruned())
			}
			rt, err := dagmpi.New(tr, opts...)
			if err != nil {
				t.Fatal(err)
			}
			s := randgraph.New(seed, w.Size(), 8, 150)
			err = s.Check(rt, seed%2 == 0)
			if cerr := rt.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
}

func TestNames(t *testing.T) {
	w := mpi.World()
	for _, c := range []struct {
		name  string
		want  any
		paths []string
	}{{"p2p", &p2p.Transport{}, []string{"p2p"}}, {"rma", &onesided.Transport{}, []string{"rma"}}, {"auto", &mux.Auto{}, []string{"p2p", "rma"}}} {
		tr, err := mux.New(w, c.name)
		if assert.NoError(t, err, c.name) {
			assert.IsType(t, c.want, tr, c.name)
			if pn, ok := tr.(dagmpi.PathNamer); assert.True(t, ok, "%s is a dagmpi.PathNamer", c.name) {
				assert.Equal(t, c.paths, pn.Paths(), c.name)
			}
			assert.NoError(t, tr.Close())
		}
	}
	_, err := mux.New(w, "collective")
	assert.True(t, errors.Is(err, mux.ErrUnavailable), "collective: %v", err)
	_, err = mux.New(w, "carrier-pigeon")
	assert.ErrorContains(t, err, `unknown transport "carrier-pigeon"`)

	os.Setenv(mux.EnvTransport, "rma")
	defer os.Unsetenv(mux.EnvTransport)
	tr, err := mux.New(w, "")
	if assert.NoError(t, err) {
		assert.IsType(t, &onesided.Transport{}, tr)
		assert.NoError(t, tr.Close())
	}
}

func TestDescribe(t *testing.T) {
	tr, err := mux.NewAutoRoutes(mpi.World(), [32]bool{13: true, 14: true, 15: true})
	if !assert.NoError(t, err) {
		return
	}
	defer tr.Close()
	assert.Equal(t, "p2p <4KiB, rma 4KiB-32KiB, p2p >=32KiB", tr.Describe())
	assert.True(t, tr.OneSided(), "a size class routes one-sided: the window stays")
}

// TestDropUnused checks that Auto frees the one-sided transport when
// nothing routes there, and still moves every size, with the tag bound of
// p2p alone.
func TestDropUnused(t *testing.T) {
	w := mpi.World()
	tr, err := mux.NewAutoRoutes(w, [32]bool{})
	if !assert.NoError(t, err) {
		return
	}
	assert.False(t, tr.OneSided(), "no class routes one-sided: the window is freed")
	assert.Equal(t, "p2p all sizes", tr.Describe())
	p, err := p2p.New(w)
	if assert.NoError(t, err) {
		assert.Equal(t, p.TagBound(), tr.TagBound())
		assert.NoError(t, p.Close())
	}
	assert.NoError(t, tr.Close())
	assert.NoError(t, tr.Close(), "a second Close is a no-op")
}

func TestCalibrationPair(t *testing.T) {
	for _, c := range []struct {
		nodes []int32
		want  int
	}{
		{[]int32{0, 0}, 1},
		{[]int32{0, 0, 0, 0}, 1},
		{[]int32{0, 0, 2, 2}, 2},    // two nodes of two ranks
		{[]int32{0, 1, 0, 1}, 1},    // round-robin placement
		{[]int32{0, 0, 0, 3, 3}, 3}, // the first rank of another node
	} {
		assert.Equal(t, c.want, mux.CalibrationPair(c.nodes), "nodes %v", c.nodes)
	}
}

// TestByTransport routes 64-byte messages one-sided and 1 KiB messages
// point-to-point, moves both from rank 0 to every other rank a few times,
// and checks that the runtime's Stats.ByTransport counts each path's sends
// and bytes exactly.
func TestByTransport(t *testing.T) {
	w := mpi.World()
	var routes [32]bool
	routes[bits.Len(64)] = true // 64..127 bytes one-sided; 1024 (class 11) p2p
	tr, err := mux.NewAutoRoutes(w, routes)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := dagmpi.NewOwned(tr, dagmpi.WithWorkers(1), dagmpi.WithWatchdog(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	const versions = 3
	small, err := dagmpi.NewData[float64](rt, 8, 0, nil) // 64 bytes
	if err != nil {
		t.Fatal(err)
	}
	large, err := dagmpi.NewData[float64](rt, 128, 0, nil) // 1 KiB
	if err != nil {
		t.Fatal(err)
	}
	nop := func(*dagmpi.Task) error { return nil }
	for v := 0; v < versions && err == nil; v++ {
		err = rt.Submit(nop, small.Write(), large.Write(), dagmpi.OnRank(0))
		for r := 1; r < w.Size() && err == nil; r++ {
			err = rt.Submit(nop, small.Read(), large.Read(), dagmpi.OnRank(r))
		}
	}
	if err == nil {
		err = rt.Wait()
	}
	assert.NoError(t, err)
	s := rt.Stats()
	assert.NoError(t, rt.Close())

	k := int64(0)
	if w.Rank() == 0 {
		k = versions * int64(w.Size()-1)
	}
	assert.Equal(t, map[string]dagmpi.TransportBytes{
		"rma": {Sends: k, Bytes: 64 * k},
		"p2p": {Sends: k, Bytes: 1024 * k},
	}, s.ByTransport, "rank %d", w.Rank())
	assert.Equal(t, s.BytesSent, s.ByTransport["rma"].Bytes+s.ByTransport["p2p"].Bytes, "rank %d: bytes per transport sum to BytesSent", w.Rank())
	assert.Equal(t, s.Sends, s.ByTransport["rma"].Sends+s.ByTransport["p2p"].Sends, "rank %d: sends per transport sum to Sends", w.Rank())
}

func TestTreeReaders(t *testing.T) {
	assert.Equal(t, [3]int{1, 2, 3}, mux.TreeReaders([]int32{0, 0, 0, 0, 0}), "one node")
	assert.Equal(t, [3]int{2, 4, 5}, mux.TreeReaders([]int32{0, 0, 2, 0, 4, 4}), "other nodes first")
	assert.Equal(t, [3]int{3, 1, 2}, mux.TreeReaders([]int32{0, 0, 0, 3}), "filled up from rank 0's node")
}

// TestTreeCalibration: at 4 ranks or more NewAuto times flat and tree
// broadcasts and every rank gets the same advice; below, it advises nothing.
func TestTreeCalibration(t *testing.T) {
	w := mpi.World()
	// As if every rank had cores of its own, so that the trees are timed
	// even where the test ranks share cores.
	defer mux.SetCPUs(64)()
	a, err := mux.NewAuto(w)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	from, ok := a.BroadcastTreeFrom()
	t.Logf("rank %d: %s; tree times %v", w.Rank(), a.Describe(), a.TreeTimes())
	if w.Size() < 4 {
		assert.False(t, ok, "advice below 4 ranks")
		assert.Nil(t, a.TreeTimes())
		return
	}
	mine := []int64{int64(from), 0}
	if ok {
		mine[1] = 1
	}
	all := make([]int64, 2*w.Size())
	if err := mpi.Allgather(w, mine, all); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < w.Size(); r++ {
		assert.Equal(t, mine, all[2*r:2*r+2], "rank %d's advice differs from rank %d's", r, w.Rank())
	}
	if ok {
		assert.Contains(t, a.Describe(), "broadcast trees from")
	} else {
		assert.Contains(t, a.Describe(), "no broadcast trees")
	}
	if w.Rank() == 0 {
		if assert.Len(t, a.TreeTimes(), 2) {
			for _, tt := range a.TreeTimes() {
				assert.Positive(t, tt[0])
				assert.Positive(t, tt[1])
			}
		}
	}
}

// TestRouteAboveSlot: a message bigger than one one-sided slot but in the
// slot's size class goes one-sided only when the class of twice the slot
// does (it would be chunked and copied, not lent).
func TestRouteAboveSlot(t *testing.T) {
	w := mpi.World()
	if w.Size() < 2 {
		t.Skip("needs 2 ranks")
	}
	slot := onesided.DefaultConfig.SlotBytes
	for _, both := range []bool{false, true} {
		var routes [32]bool
		routes[bits.Len(uint(slot))] = true
		routes[bits.Len(uint(2*slot))] = both
		a, err := mux.NewAutoRoutes(w, routes)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			n    int
			path uint8
		}{{slot, 1}, {slot + 8, map[bool]uint8{false: 0, true: 1}[both]}, {2 * slot, map[bool]uint8{false: 0, true: 1}[both]}} {
			var ids []uint64
			switch w.Rank() {
			case 0:
				if err := a.Send(make([]byte, c.n), 1, 5, 1); err != nil {
					t.Fatal(err)
				}
				ids = []uint64{1}
			case 1:
				if err := a.Recv(make([]byte, c.n), 0, 5, 2); err != nil {
					t.Fatal(err)
				}
				ids = []uint64{2}
			}
			var done []dagmpi.Completion
			deadline := time.Now().Add(20 * time.Second)
			for len(ids) > 0 && time.Now().Before(deadline) {
				if done, err = a.Progress(done[:0]); err != nil {
					t.Fatal(err)
				}
				for _, d := range done {
					assert.NoError(t, d.Err)
					assert.Equal(t, c.path, d.Path, "%d bytes (class of twice the slot one-sided: %v): path", c.n, both)
					ids = ids[:0]
				}
			}
			assert.Empty(t, ids, "%d bytes: not complete", c.n)
		}
		assert.NoError(t, mpi.Barrier(w))
		assert.NoError(t, a.Close())
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int{
		"0": 0, "1048576": 1 << 20, "512K": 512 << 10, "64M": 64 << 20, "64MiB": 64 << 20,
		"1G": 1 << 30, "2gib": 2 << 30, "100B": 100, "3kb": 3 << 10,
	} {
		got, err := mux.ParseBytes(in)
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	for _, in := range []string{"", "M", "-1", "1.5M", "64 M", "12T", "99999999999G", "5i", "1KI", "KiB", "2MiBB"} {
		_, err := mux.ParseBytes(in)
		assert.Error(t, err, "%q", in)
	}
}

// TestWindowCap caps auto's one-sided window below what the job needs: auto
// then opens no window, says why, routes every size point-to-point and
// still moves data (a 64 KiB and an 8-byte version from rank 0 to every
// rank, values checked, no byte one-sided); NewAutoRoutes asked for a
// one-sided route fails naming the cap; a malformed cap is an error naming
// the variable.
func TestWindowCap(t *testing.T) {
	w := mpi.World()
	t.Setenv(mux.EnvWindowMax, "1K")
	tr, err := mux.NewAuto(w)
	if err != nil {
		t.Fatal(err)
	}
	assert.False(t, tr.OneSided())
	want := fmt.Sprintf("no one-sided window: it would take %s per rank at %d ranks, over the cap of 1.0 KiB (%s)",
		kibOrMiB(onesided.DefaultConfig.WindowBytes(w.Size())), w.Size(), mux.EnvWindowMax)
	assert.Equal(t, want, tr.NoWindow())
	// At 4 ranks or more the tree calibration's verdict follows.
	assert.True(t, strings.HasPrefix(tr.Describe(), "p2p all sizes ("+want+")"), "Describe: %s", tr.Describe())
	// Flat sends (no broadcast tree, which auto may advise at 4 ranks), so
	// that rank 0 sends every byte.
	rt, err := dagmpi.NewOwned(tr, dagmpi.WithWorkers(1), dagmpi.WithWatchdog(60*time.Second), dagmpi.WithoutBroadcastTree())
	if err != nil {
		t.Fatal(err)
	}
	big, _ := dagmpi.NewData[float64](rt, 8192, 0, nil)
	small, _ := dagmpi.NewData[float64](rt, 1, 0, nil)
	err = rt.Submit(func(tk *dagmpi.Task) error {
		for i, b := 0, big.Buf(tk); i < len(b); i++ {
			b[i] = float64(i) + 0.5
		}
		small.Buf(tk)[0] = 42
		return nil
	}, big.Write(), small.Write(), dagmpi.OnRank(0))
	got := make([]float64, w.Size())
	for r := 1; r < w.Size() && err == nil; r++ {
		r := r
		err = rt.Submit(func(tk *dagmpi.Task) error {
			sum := 0.0
			for _, v := range big.Buf(tk) {
				sum += v
			}
			got[r] = sum + small.Buf(tk)[0]
			return nil
		}, big.Read(), small.Read(), dagmpi.OnRank(r))
	}
	if err == nil {
		err = rt.Wait()
	}
	assert.NoError(t, err)
	if me := w.Rank(); me > 0 {
		assert.Equal(t, 8192*8191/2+0.5*8192+42, got[me], "rank %d", me)
	}
	s := rt.Stats()
	assert.NoError(t, rt.Close())
	assert.Zero(t, s.ByTransport["rma"].Bytes, "rank %d", w.Rank())
	if w.Rank() == 0 {
		assert.Equal(t, int64(w.Size()-1)*(8192*8+8), s.ByTransport["p2p"].Bytes)
	}

	if w.Size() > 1 {
		_, err = mux.NewAutoRoutes(w, [32]bool{13: true})
		if assert.Error(t, err) {
			assert.Contains(t, err.Error(), "size class 13 routed one-sided, but no one-sided window")
		}
	}
	t.Setenv(mux.EnvWindowMax, "lots")
	_, err = mux.NewAuto(w)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), `SPMD_AUTO_WINDOW_MAX="lots"`)
	}
	// A cap that only rank 0 cannot read fails every rank, none waits.
	if w.Rank() != 0 {
		t.Setenv(mux.EnvWindowMax, "")
	}
	_, err = mux.NewAuto(w)
	if assert.Error(t, err, "rank %d", w.Rank()) && w.Rank() != 0 {
		assert.Contains(t, err.Error(), "SPMD_AUTO_WINDOW_MAX could not be read on another rank")
	}
}

// TestWindowShm makes /dev/shm look just too small for the node's windows
// (every rank of the test is on this node): auto opens none and names
// /dev/shm; with exactly twice the windows free it opens the window.
func TestWindowShm(t *testing.T) {
	w := mpi.World()
	need := onesided.DefaultConfig.WindowBytes(w.Size())
	enough := uint64(2 * w.Size() * need)
	restore := mux.SetShmFree(enough - 1)
	tr, err := mux.NewAuto(w)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	assert.False(t, tr.OneSided())
	assert.Equal(t, fmt.Sprintf("no one-sided window: /dev/shm has %d MiB free on a node, less than twice its ranks' windows of %s each",
		(enough-1)>>20, kibOrMiB(need)), tr.NoWindow())
	assert.NoError(t, tr.Close())

	restore = mux.SetShmFree(enough)
	defer restore()
	tr, err = mux.NewAuto(w)
	if err != nil {
		t.Fatal(err)
	}
	assert.Empty(t, tr.NoWindow(), "twice the windows free: the window is allowed")
	assert.NoError(t, tr.Close())
}

// kibOrMiB writes n bytes as the messages of auto do: to one decimal in KiB
// below a MiB, in MiB from there.
func kibOrMiB(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/1024)
}

// TestTreeOversubscribed: on a node with more ranks than the cores their
// masks cover (here: every rank reports CPU 0 only), auto does not time
// trees and advises none, and says so; a rank that cannot read its mask
// does not count as sharing.
func TestTreeOversubscribed(t *testing.T) {
	w := mpi.World()
	if w.Size() < 4 {
		t.Skip("trees are timed from 4 ranks")
	}
	restore := mux.SetCPUs(1)
	a, err := mux.NewAuto(w)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	_, ok := a.BroadcastTreeFrom()
	assert.False(t, ok)
	assert.Nil(t, a.TreeTimes())
	assert.Contains(t, a.Describe(), "; broadcast trees not timed (a node runs more ranks than it has cores)")
	assert.NoError(t, a.Close())

	restore = mux.SetCPUs(-1)
	a, err = mux.NewAuto(w)
	restore()
	if err != nil {
		t.Fatal(err)
	}
	assert.NotContains(t, a.Describe(), "not timed")
	if w.Rank() == 0 {
		assert.Len(t, a.TreeTimes(), 2, "masks unknown: the trees are timed")
	}
	assert.NoError(t, a.Close())
}
