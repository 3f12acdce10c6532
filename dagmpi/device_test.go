package dagmpi_test

import (
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
	"github.com/spmd-go/spmd/dagmpi/internal/devgraph"
)

func sameFloats(got, want []float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("element %d = %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}

// TestDeviceGraph runs the device graph on 1, 2 and 4 in-process ranks,
// with slowed copies and small chunks (so staged transfers pipeline), and
// compares with the serial result.
func TestDeviceGraph(t *testing.T) {
	checkNoLeak(t)
	const tiles, k = 8, 12
	want := devgraph.Serial(tiles, k)
	for _, ranks := range []int{1, 2, 4, -4} {
		name, opts := fmt.Sprint(ranks), []dagmpi.Option(nil)
		if ranks < 0 {
			// FetchAll of S then moves down a broadcast tree: ranks
			// forward device replicas they received.
			ranks, name, opts = -ranks, fmt.Sprint(-ranks, "/tree"), []dagmpi.Option{dagmpi.WithBroadcastTree()}
		}
		t.Run(name, func(t *testing.T) {
			devs := make([]*cudaaware.HostDevice, ranks)
			for r := range devs {
				devs[r] = cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: 200 * time.Microsecond, Log: true})
			}
			o := dagmpi.DeviceOptions{Streams: 4, ChunkBytes: 256, Depth: 2}
			s0 := make([][]float64, ranks)
			sAll := make([][]float64, ranks)
			errs := spmd(t, inproc.Config{Ranks: ranks, Seed: 3, MaxDelay: 50 * time.Microsecond}, opts, func(rt *dagmpi.Runtime) error {
				var err error
				s0[rt.Rank()], sAll[rt.Rank()], err = devgraph.Run(rt, devs[rt.Rank()], o, tiles, k)
				return err
			})
			noErrors(t, errs)
			if err := sameFloats(s0[0], want); err != nil {
				t.Errorf("Fetch(0): %v", err)
			}
			for r := range ranks {
				if r > 0 && s0[r] != nil {
					t.Errorf("rank %d: Fetch(0) returned values off the root", r)
				}
				if err := sameFloats(sAll[r], want); err != nil {
					t.Errorf("rank %d: FetchAll: %v", r, err)
				}
			}
			if ranks > 1 {
				// Rank 1's tiles went to rank 0 staged: device-to-host copies
				// of whole chunks on rank 1, host-to-device on rank 0.
				chunks := 0
				for _, c := range devs[1].Copies() {
					if c.Kind == cudaaware.DtoH && c.Bytes == 256 {
						chunks++
					}
				}
				if min := tiles / ranks * (8 * k * k / 256); chunks < min {
					t.Errorf("rank 1 staged %d chunks of 256 bytes, want at least %d", chunks, min)
				}
			}
		})
	}
}

// TestDeviceStreamsOverlap: independent device tasks run on different
// streams at the same time (from the HostDevice's record), and the time
// taken shows it.
func TestDeviceStreamsOverlap(t *testing.T) {
	checkNoLeak(t)
	dev := cudaaware.NewHostDevice(cudaaware.HostOptions{Log: true})
	const ntask, nap = 8, 20 * time.Millisecond
	var took time.Duration
	errs := spmd(t, inproc.Config{Ranks: 1}, []dagmpi.Option{dagmpi.WithWorkers(2)}, func(rt *dagmpi.Runtime) error {
		pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{Streams: 4})
		if err != nil {
			return err
		}
		var ds []*dagmpi.Data[float64]
		for range ntask {
			d, err := dagmpi.NewDeviceData[float64](pool, 4, 0, nil)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		dev.Copies()
		t0 := time.Now()
		for _, d := range ds {
			err := rt.Submit(func(t *dagmpi.Task) error {
				return cudaaware.LaunchHost(cudaaware.TaskStream(t), func() { time.Sleep(nap) })
			}, d.Write(), dagmpi.OnDevice(pool))
			if err != nil {
				return err
			}
		}
		err = rt.Wait()
		took = time.Since(t0)
		return err
	})
	noErrors(t, errs)
	recs := dev.Copies()
	streams := map[int]bool{}
	overlaps := 0
	for i, a := range recs {
		streams[a.Stream] = true
		for _, b := range recs[i+1:] {
			if a.Stream != b.Stream && a.Start.Before(b.End) && b.Start.Before(a.End) {
				overlaps++
			}
		}
	}
	if len(recs) != ntask || len(streams) != 4 || overlaps == 0 {
		t.Errorf("%d kernels on %d streams with %d overlapping pairs; want %d kernels on 4 streams overlapping", len(recs), len(streams), overlaps, ntask)
	}
	t.Logf("%d tasks of %v on 4 streams took %v (serially %v)", ntask, nap, took, ntask*nap)
}

// syncGraph: task 1 (stream 0) writes X with a slow kernel; task 2 (stream
// 1) copies X to Y; task 3, a host task, reads Y through a host handle that
// a device task filled. Only the event wait orders task 2 after task 1.
func syncGraph(rt *dagmpi.Runtime, dev *cudaaware.HostDevice, copyBody *time.Time) ([]float64, []int, error) {
	pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{Streams: 2})
	if err != nil {
		return nil, nil, err
	}
	const n = 64
	X, err := dagmpi.NewDeviceData[float64](pool, n, 0, nil)
	if err != nil {
		return nil, nil, err
	}
	Y, err := dagmpi.NewDeviceData[float64](pool, n, 0, nil)
	if err != nil {
		return nil, nil, err
	}
	H, err := dagmpi.NewData[float64](rt, n, 0, nil)
	if err != nil {
		return nil, nil, err
	}
	var streams []int
	err = rt.Submit(func(t *dagmpi.Task) error {
		streams = append(streams, t.StreamIndex())
		xb := cudaaware.TaskBuffer(X, t)
		return cudaaware.LaunchHost(cudaaware.TaskStream(t), func() {
			time.Sleep(30 * time.Millisecond)
			xv, _ := cudaaware.HostView(xb)
			for i := range xv {
				xv[i] = float64(i + 1)
			}
		})
	}, X.Write(), dagmpi.OnDevice(pool), dagmpi.Name("produce"))
	if err != nil {
		return nil, nil, err
	}
	err = rt.Submit(func(t *dagmpi.Task) error {
		streams = append(streams, t.StreamIndex())
		*copyBody = time.Now()
		xb, yb := cudaaware.TaskBuffer(X, t), cudaaware.TaskBuffer(Y, t)
		return cudaaware.TaskStream(t).CopyDtoD(yb.Mem(), yb.Offset(), xb.Mem(), xb.Offset(), xb.Bytes())
	}, X.Read(), Y.Write(), dagmpi.OnDevice(pool), dagmpi.Name("copy"))
	if err != nil {
		return nil, nil, err
	}
	err = rt.Submit(func(t *dagmpi.Task) error {
		streams = append(streams, t.StreamIndex())
		yb := cudaaware.TaskBuffer(Y, t)
		return cudaaware.TaskStream(t).CopyDtoH(f64view(H.Buf(t)), yb.Mem(), yb.Offset())
	}, Y.Read(), H.Write(), dagmpi.OnDevice(pool), dagmpi.Name("download"))
	if err != nil {
		return nil, nil, err
	}
	out := make([]float64, n)
	err = rt.Submit(func(t *dagmpi.Task) error {
		copy(out, H.Buf(t))
		return nil
	}, H.Read(), dagmpi.Name("host reader"))
	if err != nil {
		return nil, nil, err
	}
	return out, streams, rt.Wait()
}

// TestDeviceEventWait: with the event waits, the host reader sees X's
// values; with them disabled (test hook), the copy on the other stream
// runs before the slow kernel and the data is wrong, which is what the
// waits prevent.
func TestDeviceEventWait(t *testing.T) {
	checkNoLeak(t)
	for _, skip := range []bool{false, true} {
		if skip && raceEnabled {
			continue // the missing wait is a data race, which the detector reports
		}
		dagmpi.DevSkipWaits.Store(skip)
		dev := cudaaware.NewHostDevice(cudaaware.HostOptions{Log: true})
		var out []float64
		var streams []int
		var copyBody time.Time
		errs := spmd(t, inproc.Config{Ranks: 1}, nil, func(rt *dagmpi.Runtime) error {
			var err error
			out, streams, err = syncGraph(rt, dev, &copyBody)
			return err
		})
		dagmpi.DevSkipWaits.Store(false)
		noErrors(t, errs)
		if len(streams) != 3 || streams[0] == streams[1] {
			t.Fatalf("tasks ran on streams %v, want the producer and the copy on different streams", streams)
		}
		right := true
		for i, v := range out {
			if v != float64(i+1) {
				right = false
			}
		}
		if !skip && !right {
			t.Errorf("with event waits: the host reader got %v..., want 1, 2, 3, ...", out[:4])
		}
		if skip && right {
			t.Errorf("without event waits the copy still saw the kernel's values: the test cannot tell a missing wait")
		}
		// The record: the DtoD copy started after the kernel ended.
		var kEnd, cStart time.Time
		for _, c := range dev.Copies() {
			switch c.Kind {
			case cudaaware.Func:
				kEnd = c.End
			case cudaaware.DtoD:
				cStart = c.Start
			}
		}
		if !skip && cStart.Before(kEnd) {
			t.Errorf("the copy started %v before the kernel it depends on ended", kEnd.Sub(cStart))
		}
		// No host synchronisation: the copy task was enqueued while the
		// kernel it depends on was still running.
		if !copyBody.Before(kEnd) {
			t.Errorf("the dependent device task's body ran %v after the kernel ended: it waited on the host", copyBody.Sub(kEnd))
		}
	}
}

func f64view(s []float64) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 8*len(s))
}

// TestDeviceArgs: misuse is an error that says what was wrong.
func TestDeviceArgs(t *testing.T) {
	checkNoLeak(t)
	dev := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	errs := spmd(t, inproc.Config{Ranks: 1}, nil, func(rt *dagmpi.Runtime) error {
		if _, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{Path: dagmpi.DeviceDirect}); contains(err, "direct path needs a Transport with device support") != nil {
			return fmt.Errorf("AddDevice Direct on inproc: %v", err)
		}
		pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{})
		if err != nil {
			return err
		}
		if pool.Path() != dagmpi.DeviceStaged {
			return fmt.Errorf("path %v on inproc, want staged", pool.Path())
		}
		d, err := dagmpi.NewDeviceData(pool, 3, 0, []float64{1, 2, 3})
		if err != nil {
			return err
		}
		err = rt.Submit(func(*dagmpi.Task) error { return nil }, d.Read())
		if e := contains(err, "lives on device", "OnDevice"); e != nil {
			return fmt.Errorf("host task on a device handle: %v", e)
		}
		v, err := d.Fetch(0)
		if err != nil {
			return err
		}
		return sameFloats(v, []float64{1, 2, 3})
	})
	noErrors(t, errs)
}

// BenchmarkDeviceStreams: 64 independent device tasks, each a 1ms "kernel"
// (a sleeping host function on a HostDevice stream, so the device is busy
// without the CPU), on 1, 2, 4 and 8 streams of one pool. A host-stand-in
// measurement of how well the runtime keeps streams busy, not a GPU figure.
func BenchmarkDeviceStreams(b *testing.B) {
	const ntask, nap = 64, time.Millisecond
	for _, ns := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("streams=%d", ns), func(b *testing.B) {
			dev := cudaaware.NewHostDevice(cudaaware.HostOptions{})
			errs := spmd(b, inproc.Config{Ranks: 1}, []dagmpi.Option{dagmpi.WithWorkers(2)}, func(rt *dagmpi.Runtime) error {
				pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{Streams: ns})
				if err != nil {
					return err
				}
				var ds []*dagmpi.Data[float64]
				for range ntask {
					d, err := dagmpi.NewDeviceData[float64](pool, 16, 0, nil)
					if err != nil {
						return err
					}
					ds = append(ds, d)
				}
				b.ResetTimer()
				for range b.N {
					for _, d := range ds {
						err := rt.Submit(func(t *dagmpi.Task) error {
							return cudaaware.LaunchHost(cudaaware.TaskStream(t), func() { time.Sleep(nap) })
						}, d.Write(), dagmpi.OnDevice(pool))
						if err != nil {
							return err
						}
					}
					if err := rt.Wait(); err != nil {
						return err
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(ntask*b.N)/b.Elapsed().Seconds(), "tasks/s")
				return nil
			})
			noErrors(b, errs)
		})
	}
}

// TestDeviceTagWrap: with two tags, device transfers of many chunks and
// host transfers between the same two ranks share tags all the time; no
// message may match a chunk of another transfer.
func TestDeviceTagWrap(t *testing.T) {
	checkNoLeak(t)
	const rounds, n = 12, 300
	vals := func(i, n int) []float64 {
		v := make([]float64, n)
		for j := range v {
			v[j] = float64(i*1000 + j)
		}
		return v
	}
	devs := []*cudaaware.HostDevice{cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: 20 * time.Microsecond}), cudaaware.NewHostDevice(cudaaware.HostOptions{})}
	errs := spmd(t, inproc.Config{Ranks: 2, TagBound: 2, Seed: 9, MaxDelay: 100 * time.Microsecond}, nil, func(rt *dagmpi.Runtime) error {
		pool, err := rt.AddDevice(cudaaware.DagmpiDevice(devs[rt.Rank()]), dagmpi.DeviceOptions{ChunkBytes: 256, Depth: 3})
		if err != nil {
			return err
		}
		var outs []*dagmpi.Data[float64]
		for i := range rounds {
			var dv, hv []float64
			if rt.Rank() == 0 {
				dv, hv = vals(i, n), vals(-i, 5)
			}
			D, err := dagmpi.NewDeviceData(pool, n, 0, dv)
			if err != nil {
				return err
			}
			H, err := dagmpi.NewData(rt, 5, 0, hv)
			if err != nil {
				return err
			}
			out, err := dagmpi.NewDeviceData[float64](pool, n, 1, nil)
			if err != nil {
				return err
			}
			outs = append(outs, out)
			err = rt.Submit(func(t *dagmpi.Task) error {
				o, d := cudaaware.TaskBuffer(out, t), cudaaware.TaskBuffer(D, t)
				return cudaaware.TaskStream(t).CopyDtoD(o.Mem(), 0, d.Mem(), 0, d.Bytes())
			}, D.Read(), out.Write(), dagmpi.OnDevice(pool), dagmpi.OnRank(1))
			if err != nil {
				return err
			}
			// Three transfers a round: the tags of device and host
			// messages take turns.
			err = rt.Submit(func(t *dagmpi.Task) error {
				return sameFloats(H.Buf(t), vals(-i, 5))
			}, H.Read(), dagmpi.OnRank(1), dagmpi.Name(fmt.Sprintf("host check %d", i)))
			if err != nil {
				return err
			}
			err = rt.Submit(func(t *dagmpi.Task) error {
				return nil
			}, H.ReadWrite(), dagmpi.OnRank(0))
			if err != nil {
				return err
			}
			err = rt.Submit(func(t *dagmpi.Task) error {
				return sameFloats(H.Buf(t), vals(-i, 5))
			}, H.Read(), dagmpi.OnRank(1), dagmpi.Name(fmt.Sprintf("host check %d again", i)))
			if err != nil {
				return err
			}
		}
		for i, out := range outs {
			v, err := out.Fetch(1)
			if err != nil {
				return err
			}
			if rt.Rank() == 1 {
				if err := sameFloats(v, vals(i, n)); err != nil {
					return fmt.Errorf("round %d: %v", i, err)
				}
			}
		}
		return nil
	})
	noErrors(t, errs)
}

// TestDeviceFailures: a device task that fails, and device work that does
// not finish within the watchdog time, end the job with a message naming
// the task; nothing hangs or leaks.
func TestDeviceFailures(t *testing.T) {
	checkNoLeak(t)
	dev := cudaaware.NewHostDevice(cudaaware.HostOptions{})
	errs := spmd(t, inproc.Config{Ranks: 2}, nil, func(rt *dagmpi.Runtime) error {
		pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{})
		if err != nil {
			return err
		}
		d, err := dagmpi.NewDeviceData[float64](pool, 4, 1, nil)
		if err != nil {
			return err
		}
		err = rt.Submit(func(t *dagmpi.Task) error {
			return fmt.Errorf("no kernel today")
		}, d.Write(), dagmpi.OnDevice(pool), dagmpi.Name("broken kernel"))
		if err != nil {
			return err
		}
		return rt.Wait()
	})
	for r, err := range errs {
		if e := contains(err, `"broken kernel"`, "no kernel today"); e != nil {
			t.Errorf("rank %d: %v", r, e)
		}
	}
	errs = spmd(t, inproc.Config{Ranks: 1}, []dagmpi.Option{dagmpi.WithWatchdog(100 * time.Millisecond)}, func(rt *dagmpi.Runtime) error {
		pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{})
		if err != nil {
			return err
		}
		d, err := dagmpi.NewDeviceData[float64](pool, 4, 0, nil)
		if err != nil {
			return err
		}
		err = rt.Submit(func(t *dagmpi.Task) error {
			return cudaaware.LaunchHost(cudaaware.TaskStream(t), func() { time.Sleep(time.Second) })
		}, d.Write(), dagmpi.OnDevice(pool), dagmpi.Name("slow kernel"))
		if err != nil {
			return err
		}
		return rt.Wait()
	})
	if e := contains(errs[0], "no progress", `task "slow kernel"`, "waiting for its event"); e != nil {
		t.Error(e)
	}
}

// TestInlineChainWithDeviceChunks: a host chain bouncing between 2 ranks,
// its tasks run inline, while staged device transfers post chunks. The
// progress loop finishes an inline task's eager send in the same turn; that
// poll must also pass device chunks to the device pump (a review found it
// did not, and the job failed on an "unknown operation id").
func TestInlineChainWithDeviceChunks(t *testing.T) {
	const steps = 1000
	for rep := 0; rep < 3; rep++ {
		errs := spmd(t, inproc.Config{Ranks: 2, Seed: int64(rep)}, []dagmpi.Option{dagmpi.WithWorkers(2), dagmpi.WithInline(time.Hour)}, func(rt *dagmpi.Runtime) error {
			dev := cudaaware.NewHostDevice(cudaaware.HostOptions{CopyDelay: 20 * time.Microsecond})
			pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), dagmpi.DeviceOptions{ChunkBytes: 64, Depth: 2, Path: dagmpi.DeviceStaged})
			if err != nil {
				return err
			}
			for i := 0; i < 8; i++ {
				var init []float64
				if rt.Rank() == 0 {
					init = make([]float64, 4096)
				}
				d, err := dagmpi.NewDeviceData(pool, 4096, 0, init)
				if err != nil {
					return err
				}
				if err := rt.Submit(func(*dagmpi.Task) error { return nil }, d.Read(), dagmpi.OnRank(1), dagmpi.OnDevice(pool)); err != nil {
					return err
				}
			}
			x, err := newF64(rt, 1, 0, 0)
			if err != nil {
				return err
			}
			for i := 0; i < steps; i++ {
				err := rt.Submit(func(tk *dagmpi.Task) error { x.Buf(tk)[0]++; return nil }, x.ReadWrite(), dagmpi.OnRank(i%2))
				if err != nil {
					return err
				}
			}
			got, err := x.Fetch(0)
			if err != nil {
				return err
			}
			if err := rt.Wait(); err != nil {
				return err
			}
			if rt.Rank() == 0 && got[0] != steps {
				return fmt.Errorf("chain value %v, want %d", got[0], steps)
			}
			return nil
		})
		noErrors(t, errs)
	}
}
