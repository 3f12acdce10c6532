package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spmd-go/spmd/mpi"
	"github.com/spmd-go/spmd/rma"
)

// rmaOp names the one-sided operation of a test; the order matches the
// REF_PUT, REF_GET and REF_ACC constants in cref.go.
type rmaOp int

const (
	rmaPut rmaOp = iota
	rmaGet
	rmaAcc
)

// winKind is the window creation of a one-sided test (-w).
type winKind int

const (
	winAllocate winKind = iota // MPI_Win_allocate (rma.Allocate), OSU's default
	winCreate                  // MPI_Win_create over Go memory (rma.Create)
	winDynamic                 // MPI_Win_create_dynamic and MPI_Win_attach
)

var winNames = []string{"allocate", "create", "dynamic"}
var winHeaders = []string{"MPI_Win_allocate", "MPI_Win_create", "MPI_Win_create_dynamic"}

// syncKind is the synchronisation of a one-sided test (-s).
type syncKind int

const (
	syncFlush      syncKind = iota // lock once; MPI_Win_flush per iteration (OSU's default)
	syncFlushLocal                 // lock once; MPI_Win_flush_local per iteration
	syncLock                       // MPI_Win_lock and MPI_Win_unlock per iteration
	syncLockAll                    // lock_all once; MPI_Win_flush per iteration
	syncFence                      // MPI_Win_fence per iteration, on both ranks
	syncPSCW                       // post/wait (target) and start/complete (origin) per iteration
)

var syncNames = []string{"flush", "flush_local", "lock", "lock_all", "fence", "pscw"}
var syncHeaders = []string{"MPI_Win_flush", "MPI_Win_flush_local", "MPI_Win_lock/unlock",
	"MPI_Win_lock_all/unlock_all", "MPI_Win_fence", "MPI_Win_post/start/complete/wait"}

func lookup(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// parseOneSided sets o.win and o.sync from -w and -s. Every one-sided test
// takes every combination; other tests take only the defaults, and
// -compare-c (whose C loop is OSU's default) only allocate with flush.
func (o *options) parseOneSided(t *test, win, sync string) error {
	w, s := lookup(winNames, win), lookup(syncNames, sync)
	if w < 0 {
		return fmt.Errorf("osu: bad -w %q: want %s", win, strings.Join(winNames, ", "))
	}
	if s < 0 {
		return fmt.Errorf("osu: bad -s %q: want %s", sync, strings.Join(syncNames, ", "))
	}
	o.win, o.sync = winKind(w), syncKind(s)
	if t.class != onesided && (o.win != winAllocate || o.sync != syncFlush) {
		return fmt.Errorf("osu: -w and -s apply to the one-sided tests, not to %s", t.name)
	}
	if o.compareC && (o.win != winAllocate || o.sync != syncFlush) {
		return fmt.Errorf("osu: -compare-c has a C loop for -w allocate -s flush only, not -w %s -s %s", win, sync)
	}
	return nil
}

// goOneSided runs a one-sided test as OSU does. Every rank makes a window
// of winSize bytes as -w says (allocate: rma.Allocate; create: rma.Create
// over a Go buffer; dynamic: rma.CreateDynamic, then each rank attaches a
// Go buffer and rank 1's address is sent to rank 0). Rank 0, the origin,
// issues per iteration window operations of size bytes to the start of
// rank 1's memory (Put from buf, Get into buf, or Accumulate with MPI_SUM
// over int8), synchronised as -s says:
//
//   - flush: lock rank 1 (shared) once, MPI_Win_flush(1) per iteration,
//     unlock after the loop (the default);
//   - flush_local: likewise with MPI_Win_flush_local(1);
//   - lock: lock (shared) before and unlock after the operations of each
//     iteration;
//   - lock_all: MPI_Win_lock_all once, MPI_Win_flush(1) per iteration,
//     MPI_Win_unlock_all after the loop;
//   - fence: every rank calls MPI_Win_fence once before the loop and once
//     per iteration, after rank 0's operations;
//   - pscw: per iteration rank 1 posts to rank 0 and waits, rank 0 starts
//     an epoch to rank 1, issues the operations and completes.
//
// With pingPong (the latency tests under fence and pscw, as in OSU) the
// ranks take turns instead: rank 0 operates on rank 1, then rank 1 on rank
// 0, in each iteration (see fenceLoop and pscwPingPong), and the time
// covers both.
//
// In the passive modes rank 1 only waits at the barrier that follows; then
// every rank frees the window. It returns the seconds of the timed
// iterations (after skip warm-up ones) on rank 0, and 0 elsewhere. The C
// twin of the default (allocate, flush) is ref_rma in cref.go.
func goOneSided(c *mpi.Comm, rank int, op rmaOp, o *options, buf []byte, winSize, size, window, iters, skip int, pingPong bool) (float64, error) {
	if op == rmaAcc {
		// MPI_SUM is not defined on MPI_BYTE: accumulate over MPI_INT8_T.
		return oneSided(c, rank, op, o, int8s(buf), winSize, size, window, iters, skip, pingPong)
	}
	return oneSided(c, rank, op, o, buf, winSize, size, window, iters, skip, pingPong)
}

// makeWindow makes the window of -w and returns it with the displacement
// of the peer's memory (rank 1's on rank 0 and rank 0's on rank 1) and,
// for a dynamic window, the buffer to detach.
func makeWindow[T byte | int8](c *mpi.Comm, kind winKind, winSize int) (*rma.Window[T], int, []T, error) {
	switch kind {
	case winCreate:
		w, err := rma.Create(c, make([]T, winSize))
		return w, 0, nil, err
	case winDynamic:
		w, err := rma.CreateDynamic[T](c)
		if err != nil {
			return nil, 0, nil, err
		}
		mem := make([]T, winSize)
		a, err := w.Attach(mem)
		if err != nil {
			return nil, 0, nil, errors.Join(err, w.Free())
		}
		addrs := make([]int64, c.Size())
		if err := mpi.Allgather(c, []int64{int64(a)}, addrs); err != nil {
			return nil, 0, nil, errors.Join(err, w.Detach(mem), w.Free())
		}
		return w, rma.At[T](rma.Addr(addrs[1-c.Rank()]), 0), mem, nil
	}
	w, err := rma.Allocate[T](c, winSize)
	return w, 0, nil, err
}

func oneSided[T byte | int8](c *mpi.Comm, rank int, op rmaOp, o *options, buf []T, winSize, size, window, iters, skip int, pingPong bool) (float64, error) {
	w, disp, mem, err := makeWindow[T](c, o.win, winSize)
	if err != nil {
		return 0, err
	}
	var sec float64
	switch {
	case o.sync == syncFence:
		sec, err = fenceLoop(w, rank, op, buf[:size], disp, window, iters, skip, pingPong)
	case o.sync == syncPSCW && pingPong:
		sec, err = pscwPingPong(w, rank, op, buf[:size], disp, iters, skip)
	case o.sync == syncPSCW && rank == 1:
		err = targetPSCW(w, iters+skip)
	case rank == 0:
		sec, err = originLoop(w, op, o.sync, buf[:size], disp, window, iters, skip)
	}
	if e := mpi.Barrier(c); err == nil {
		err = e
	}
	if mem != nil {
		if e := w.Detach(mem); err == nil {
			err = e
		}
	}
	if e := w.Free(); err == nil {
		err = e
	}
	return sec, err
}

// issue issues the window operations of one iteration to rank target.
func issue[T byte | int8](w *rma.Window[T], op rmaOp, buf []T, target, disp, window int) error {
	for j := 0; j < window; j++ {
		var err error
		switch op {
		case rmaPut:
			err = w.Put(buf, target, disp)
		case rmaGet:
			err = w.Get(buf, target, disp)
		case rmaAcc:
			err = w.Accumulate(buf, target, disp, mpi.Sum)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// originLoop is rank 0's part of goOneSided for the passive-target
// synchronisations and pscw.
func originLoop[T byte | int8](w *rma.Window[T], op rmaOp, sync syncKind, buf []T, disp, window, iters, skip int) (float64, error) {
	var err error
	switch sync {
	case syncFlush, syncFlushLocal:
		err = w.Lock(1, false)
	case syncLockAll:
		err = w.LockAll()
	}
	if err != nil {
		return 0, err
	}
	target := []int{1}
	var t0 time.Time
	for i := 0; i < iters+skip; i++ {
		if i == skip {
			t0 = time.Now()
		}
		switch sync {
		case syncLock:
			err = w.Lock(1, false)
		case syncPSCW:
			err = w.Start(target)
		}
		if err == nil {
			err = issue(w, op, buf, 1, disp, window)
		}
		if err == nil {
			switch sync {
			case syncFlush, syncLockAll:
				err = w.Flush(1)
			case syncFlushLocal:
				err = w.FlushLocal(1)
			case syncLock:
				err = w.Unlock(1)
			case syncPSCW:
				err = w.Complete()
			}
		}
		if err != nil {
			return 0, err
		}
	}
	sec := time.Since(t0).Seconds()
	switch sync {
	case syncFlush, syncFlushLocal:
		err = w.Unlock(1)
	case syncLockAll:
		err = w.UnlockAll()
	}
	return sec, err
}

// targetPSCW is rank 1's part of goOneSided with pscw: it exposes its
// window to rank 0 for each of n iterations.
func targetPSCW[T byte | int8](w *rma.Window[T], n int) error {
	origin := []int{0}
	for i := 0; i < n; i++ {
		if err := w.Post(origin); err != nil {
			return err
		}
		if err := w.Wait(); err != nil {
			return err
		}
	}
	return nil
}

// fenceLoop is goOneSided with fence, on every rank. For the bandwidth
// tests every rank calls MPI_Win_fence once before the loop and once per
// iteration, after rank 0's operations. For the latency tests (pingPong)
// each iteration is OSU's: fence, rank 0's operation on rank 1, fence,
// rank 1's operation on rank 0, fence; rank 0's time then covers two
// operations.
func fenceLoop[T byte | int8](w *rma.Window[T], rank int, op rmaOp, buf []T, disp, window, iters, skip int, pingPong bool) (float64, error) {
	if !pingPong {
		if err := w.Fence(); err != nil {
			return 0, err
		}
	}
	var t0 time.Time
	for i := 0; i < iters+skip; i++ {
		if i == skip {
			t0 = time.Now()
		}
		if pingPong {
			if err := w.Fence(); err != nil {
				return 0, err
			}
		}
		if rank == 0 {
			if err := issue(w, op, buf, 1, disp, window); err != nil {
				return 0, err
			}
		}
		if err := w.Fence(); err != nil {
			return 0, err
		}
		if !pingPong {
			continue
		}
		if rank == 1 {
			if err := issue(w, op, buf, 0, disp, window); err != nil {
				return 0, err
			}
		}
		if err := w.Fence(); err != nil {
			return 0, err
		}
	}
	if rank != 0 {
		return 0, nil
	}
	return time.Since(t0).Seconds(), nil
}

// pscwPingPong is goOneSided with pscw for the latency tests, OSU's
// exchange: per iteration rank 0 starts an epoch to rank 1, issues its
// operation and completes, then exposes its window to rank 1 (post, wait);
// rank 1 does the mirror image. Rank 0's time covers two operations.
func pscwPingPong[T byte | int8](w *rma.Window[T], rank int, op rmaOp, buf []T, disp, iters, skip int) (float64, error) {
	peer := []int{1 - rank}
	access := func() error {
		if err := w.Start(peer); err != nil {
			return err
		}
		if err := issue(w, op, buf, peer[0], disp, 1); err != nil {
			return err
		}
		return w.Complete()
	}
	expose := func() error {
		if err := w.Post(peer); err != nil {
			return err
		}
		return w.Wait()
	}
	var t0 time.Time
	for i := 0; i < iters+skip; i++ {
		if i == skip {
			t0 = time.Now()
		}
		var err error
		if rank == 0 {
			if err = access(); err == nil {
				err = expose()
			}
		} else if err = expose(); err == nil {
			err = access()
		}
		if err != nil {
			return 0, err
		}
	}
	if rank != 0 {
		return 0, nil
	}
	return time.Since(t0).Seconds(), nil
}
