package dagmpi_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

func newF64(rt *dagmpi.Runtime, n, home int, v float64) (*dagmpi.Data[float64], error) {
	var init []float64
	if rt.Rank() == home {
		init = make([]float64, n)
		for i := range init {
			init[i] = v
		}
	}
	return dagmpi.NewData(rt, n, home, init)
}

func expect(got []float64, want float64, what string) error {
	for i, v := range got {
		if v != want {
			return fmt.Errorf("%s: element %d is %v, want %v", what, i, v, want)
		}
	}
	return nil
}

// TestWARAcrossRanks: a version read on rank 1 must not be overwritten on
// rank 0 before the send has finished, however slow the receiver is.
func TestWARAcrossRanks(t *testing.T) {
	checkNoLeak(t)
	for seed := int64(0); seed < 5; seed++ {
		errs := spmd(t, inproc.Config{Ranks: 2, Seed: seed, MaxDelay: 2 * time.Millisecond}, nil, func(rt *dagmpi.Runtime) error {
			a, err := newF64(rt, 1000, 0, 1)
			if err != nil {
				return err
			}
			// Readers of different versions may run at once on rank 1's
			// workers: count them atomically.
			var seen atomic.Int32
			for round := 0; round < 5; round++ {
				want := float64(round + 1)
				// Read on rank 1 (a transfer), then overwrite on rank 0.
				if err := rt.Submit(func(t *dagmpi.Task) error {
					if err := expect(a.Buf(t), want, "reader on rank 1"); err != nil {
						return err
					}
					seen.Add(1)
					return nil
				}, a.Read(), dagmpi.OnRank(1)); err != nil {
					return err
				}
				if err := rt.Submit(func(t *dagmpi.Task) error {
					b := a.Buf(t)
					for i := range b {
						b[i]++
					}
					return nil
				}, a.ReadWrite()); err != nil {
					return err
				}
			}
			if err := rt.Wait(); err != nil {
				return err
			}
			if rt.Rank() == 1 && seen.Load() != 5 {
				return fmt.Errorf("rank 1 ran %d readers, want 5", seen.Load())
			}
			return nil
		})
		noErrors(t, errs)
	}
}

// TestWAWAcrossRanks: writes on different ranks land in submission order;
// the reader sees the last one, and a write-only task never waits for (or
// receives) the old version.
func TestWAWAcrossRanks(t *testing.T) {
	checkNoLeak(t)
	errs := spmd(t, inproc.Config{Ranks: 3, Seed: 3, MaxDelay: time.Millisecond}, nil, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 16, 0, 0)
		if err != nil {
			return err
		}
		for i := 0; i < 30; i++ {
			v := float64(i)
			if err := rt.Submit(func(t *dagmpi.Task) error {
				b := a.Buf(t)
				if i%5 == 0 {
					time.Sleep(time.Millisecond) // a slow early writer must not win
				}
				for j := range b {
					b[j] = v
				}
				return nil
			}, a.Write(), dagmpi.OnRank(i%3)); err != nil {
				return err
			}
		}
		got, err := a.FetchAll()
		if err != nil {
			return err
		}
		if err := expect(got, 29, "after 30 writes"); err != nil {
			return err
		}
		if err := rt.Wait(); err != nil {
			return err
		}
		if s := rt.Stats(); s.Recvs > 1 {
			// Only FetchAll may move the data (to each rank that did not
			// write last); write-only tasks never receive.
			return fmt.Errorf("rank %d received %d messages, want at most 1", rt.Rank(), s.Recvs)
		}
		return nil
	})
	noErrors(t, errs)
}

// TestRAWCachedCopy: a version read twice on a rank moves once, and a new
// version moves again.
func TestRAWCachedCopy(t *testing.T) {
	checkNoLeak(t)
	errs := spmd(t, inproc.Config{Ranks: 2, Seed: 9}, nil, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 4, 0, 7)
		if err != nil {
			return err
		}
		sum, err := newF64(rt, 1, 1, 0)
		if err != nil {
			return err
		}
		add := func(t *dagmpi.Task) error {
			s := sum.Buf(t)
			for _, v := range a.Buf(t) {
				s[0] += v
			}
			return nil
		}
		for i := 0; i < 3; i++ {
			if err := rt.Submit(add, a.Read(), sum.ReadWrite()); err != nil {
				return err
			}
		}
		if err := rt.Submit(func(t *dagmpi.Task) error { a.Buf(t)[0] = 1; return nil }, a.ReadWrite()); err != nil {
			return err
		}
		if err := rt.Submit(add, a.Read(), sum.ReadWrite()); err != nil {
			return err
		}
		got, err := sum.Fetch(1)
		if err != nil {
			return err
		}
		if err := rt.Wait(); err != nil {
			return err
		}
		st := rt.Stats()
		if rt.Rank() == 1 {
			if got[0] != 3*28+22 {
				return fmt.Errorf("sum %v, want %v", got[0], 3*28+22)
			}
			if st.Recvs != 2 {
				return fmt.Errorf("rank 1 received %d messages, want 2 (one per version read)", st.Recvs)
			}
		} else if st.Sends != 2 || st.BytesSent != 2*4*8 {
			return fmt.Errorf("rank 0 sent %d messages of %d bytes, want 2 of 64", st.Sends, st.BytesSent)
		}
		return nil
	})
	noErrors(t, errs)
}

// TestTagWrap: tags are the transfer number modulo the bound; sends that
// would share a tag out of order are held back. Transfer 0 waits for a slow
// producer while transfers 1.. are ready at once, so with bound 2 an
// unordered runtime would match transfer 2's message with transfer 0's
// receive.
func TestTagWrap(t *testing.T) {
	checkNoLeak(t)
	for _, bound := range []int{2, 3, 64} {
		t.Run(fmt.Sprint(bound), func(t *testing.T) {
			errs := spmd(t, inproc.Config{Ranks: 2, Seed: 1, TagBound: bound}, nil, func(rt *dagmpi.Runtime) error {
				const n = 200
				ds := make([]*dagmpi.Data[int64], n)
				for i := range ds {
					var init []int64
					if rt.Rank() == 0 {
						init = make([]int64, i%5+1)
						for j := range init {
							init[j] = int64(i)
						}
					}
					var err error
					if ds[i], err = dagmpi.NewData(rt, i%5+1, 0, init); err != nil {
						return err
					}
				}
				if err := rt.Submit(func(t *dagmpi.Task) error {
					time.Sleep(20 * time.Millisecond)
					b := ds[0].Buf(t)
					for j := range b {
						b[j] = -1
					}
					return nil
				}, ds[0].ReadWrite(), dagmpi.Name("slow producer")); err != nil {
					return err
				}
				for i := range ds {
					want := int64(i)
					if i == 0 {
						want = -1
					}
					d := ds[i]
					if err := rt.Submit(func(t *dagmpi.Task) error {
						for j, v := range d.Buf(t) {
							if v != want {
								return fmt.Errorf("data %d element %d is %d, want %d", d.ID(), j, v, want)
							}
						}
						return nil
					}, d.Read(), dagmpi.OnRank(1), dagmpi.Name("check")); err != nil {
						return err
					}
				}
				return rt.Wait()
			})
			noErrors(t, errs)
		})
	}
}

// TestRAW: a reader sees its writer's value, on the writer's rank and on
// another rank. The writers are slow, so a reader that did not wait for its
// writer (or a send that did not wait for it) would see the old value.
func TestRAW(t *testing.T) {
	checkNoLeak(t)
	for _, reader := range []int{0, 1} {
		t.Run(fmt.Sprintf("reader on rank %d", reader), func(t *testing.T) {
			errs := spmd(t, inproc.Config{Ranks: 2, Seed: 4, MaxDelay: time.Millisecond}, []dagmpi.Option{dagmpi.WithWorkers(4)}, func(rt *dagmpi.Runtime) error {
				a, err := newF64(rt, 64, 0, 0)
				if err != nil {
					return err
				}
				var seen atomic.Int32
				for round := 1; round <= 4; round++ {
					v := float64(round)
					if err := rt.Submit(func(t *dagmpi.Task) error {
						time.Sleep(5 * time.Millisecond)
						b := a.Buf(t)
						for i := range b {
							b[i] = v
						}
						return nil
					}, a.Write(), dagmpi.OnRank(0), dagmpi.Name("writer")); err != nil {
						return err
					}
					if err := rt.Submit(func(t *dagmpi.Task) error {
						if err := expect(a.Buf(t), v, fmt.Sprintf("reader of round %d on rank %d", round, t.Rank())); err != nil {
							return err
						}
						seen.Add(1)
						return nil
					}, a.Read(), dagmpi.OnRank(reader), dagmpi.Name("reader")); err != nil {
						return err
					}
				}
				if err := rt.Wait(); err != nil {
					return err
				}
				if rt.Rank() == reader && seen.Load() != 4 {
					return fmt.Errorf("rank %d ran %d readers, want 4", reader, seen.Load())
				}
				return nil
			})
			noErrors(t, errs)
		})
	}
}

// TestWARRunningReader: on one rank, a writer submitted after a reader does
// not start until the reader's body has returned, even with idle workers.
// The reader blocks until the test, having seen that the writer did not
// run, releases it.
func TestWARRunningReader(t *testing.T) {
	checkNoLeak(t)
	for _, mode := range []dagmpi.Mode{dagmpi.Write, dagmpi.ReadWrite} {
		t.Run(mode.String(), func(t *testing.T) {
			started := make(chan struct{})
			release := make(chan struct{})
			var wrote atomic.Bool
			errs := spmd(t, inproc.Config{Ranks: 2, Seed: 2}, []dagmpi.Option{dagmpi.WithWorkers(4)}, func(rt *dagmpi.Runtime) error {
				a, err := newF64(rt, 64, 0, 1)
				if err != nil {
					return err
				}
				if err := rt.Submit(func(t *dagmpi.Task) error {
					close(started)
					<-release
					// The writer must not have touched the buffer meanwhile.
					return expect(a.Buf(t), 1, "blocked reader after its release")
				}, a.Read(), dagmpi.OnRank(0), dagmpi.Name("reader")); err != nil {
					return err
				}
				acc := a.Write()
				if mode == dagmpi.ReadWrite {
					acc = a.ReadWrite()
				}
				if err := rt.Submit(func(t *dagmpi.Task) error {
					wrote.Store(true)
					b := a.Buf(t)
					for i := range b {
						b[i] = 2
					}
					return nil
				}, acc, dagmpi.OnRank(0), dagmpi.Name("writer")); err != nil {
					return err
				}
				var early error
				if rt.Rank() == 0 {
					<-started
					time.Sleep(50 * time.Millisecond) // time for a wrongly ready writer to run
					if wrote.Load() {
						early = fmt.Errorf("the writer ran while the reader was still running")
					}
					close(release)
				}
				got, err := a.FetchAll()
				if err != nil {
					return err
				}
				if err := expect(got, 2, "after the writer"); err != nil {
					return err
				}
				return early
			})
			noErrors(t, errs)
		})
	}
}

// TestWAWSameRank: writers of one Data on one rank never overlap and the
// last one's value is the final one, whatever their speeds.
func TestWAWSameRank(t *testing.T) {
	checkNoLeak(t)
	errs := spmd(t, inproc.Config{Ranks: 2, Seed: 6}, []dagmpi.Option{dagmpi.WithWorkers(4)}, func(rt *dagmpi.Runtime) error {
		a, err := newF64(rt, 64, 1, 0)
		if err != nil {
			return err
		}
		var running, overlaps atomic.Int32
		const n = 12
		for i := 0; i < n; i++ {
			v := float64(i)
			if err := rt.Submit(func(t *dagmpi.Task) error {
				if running.Add(1) > 1 {
					overlaps.Add(1)
				}
				defer running.Add(-1)
				if i%3 == 0 {
					time.Sleep(3 * time.Millisecond) // a slow early writer must not win
				}
				b := a.Buf(t)
				for j := range b {
					b[j] = v
				}
				return nil
			}, a.Write(), dagmpi.OnRank(1), dagmpi.Name("writer")); err != nil {
				return err
			}
		}
		got, err := a.FetchAll()
		if err != nil {
			return err
		}
		if err := expect(got, n-1, "after the writers"); err != nil {
			return err
		}
		if k := overlaps.Load(); k != 0 {
			return fmt.Errorf("rank %d: writers overlapped %d times", rt.Rank(), k)
		}
		return nil
	})
	noErrors(t, errs)
}

// TestWARPendingSend: a version read on rank 1 is overwritten on rank 0
// right after; the send cannot complete until rank 1 posts its receive,
// which rank 1 holds back, so the writer on rank 0 must wait for the send
// rather than overwrite the bytes it still has to deliver.
func TestWARPendingSend(t *testing.T) {
	checkNoLeak(t)
	for _, mode := range []dagmpi.Mode{dagmpi.Write, dagmpi.ReadWrite} {
		t.Run(mode.String(), func(t *testing.T) {
			submitted := make(chan struct{})
			var wrote atomic.Bool
			errs := spmd(t, inproc.Config{Ranks: 2, Seed: 8, MaxDelay: 2 * time.Millisecond}, []dagmpi.Option{dagmpi.WithWorkers(2)}, func(rt *dagmpi.Runtime) error {
				a, err := newF64(rt, 512, 0, 1)
				if err != nil {
					return err
				}
				var early error
				if rt.Rank() == 1 {
					// Hold back the receive: rank 0 has posted its send and
					// submitted the writer by now.
					<-submitted
					time.Sleep(50 * time.Millisecond)
					if wrote.Load() {
						early = fmt.Errorf("the writer on rank 0 ran before rank 1 had posted the receive of the old version")
					}
				}
				if err := rt.Submit(func(t *dagmpi.Task) error {
					return expect(a.Buf(t), 1, "reader on rank 1")
				}, a.Read(), dagmpi.OnRank(1), dagmpi.Name("reader")); err != nil {
					return err
				}
				acc := a.Write()
				if mode == dagmpi.ReadWrite {
					acc = a.ReadWrite()
				}
				if err := rt.Submit(func(t *dagmpi.Task) error {
					wrote.Store(true)
					b := a.Buf(t)
					for i := range b {
						b[i] = 2
					}
					return nil
				}, acc, dagmpi.Name("writer")); err != nil {
					return err
				}
				if rt.Rank() == 0 {
					close(submitted)
				}
				got, err := a.FetchAll()
				if err != nil {
					return err
				}
				if err := expect(got, 2, "after the writer"); err != nil {
					return err
				}
				return early
			})
			noErrors(t, errs)
		})
	}
}
