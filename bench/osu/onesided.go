package main

import (
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

// goOneSided runs a one-sided test as OSU does with its defaults (window
// from MPI_Win_allocate, synchronisation MPI_Win_flush): every rank
// allocates a window of winSize bytes; rank 0, the origin, locks rank 1
// (shared) once, then per iteration issues window operations of size bytes
// to displacement 0 of rank 1 (Put from buf, Get into buf, or Accumulate
// with MPI_SUM over int8) and flushes rank 1; it unlocks after the loop.
// Rank 1, the target, only waits at the barrier that follows, then every
// rank frees the window. It returns the seconds of the timed iterations
// (after skip warm-up ones) on rank 0, and 0 elsewhere. The C twin is
// ref_rma in cref.go.
func goOneSided(c *mpi.Comm, rank int, op rmaOp, buf []byte, winSize, size, window, iters, skip int) (float64, error) {
	if op == rmaAcc {
		// MPI_SUM is not defined on MPI_BYTE: accumulate over MPI_INT8_T.
		return oneSided(c, rank, op, int8s(buf), winSize, size, window, iters, skip)
	}
	return oneSided(c, rank, op, buf, winSize, size, window, iters, skip)
}

func oneSided[T byte | int8](c *mpi.Comm, rank int, op rmaOp, buf []T, winSize, size, window, iters, skip int) (float64, error) {
	w, err := rma.Allocate[T](c, winSize)
	if err != nil {
		return 0, err
	}
	var sec float64
	if rank == 0 {
		sec, err = originLoop(w, op, buf[:size], window, iters, skip)
	}
	if e := mpi.Barrier(c); err == nil {
		err = e
	}
	if e := w.Free(); err == nil {
		err = e
	}
	return sec, err
}

// originLoop is rank 0's part of goOneSided.
func originLoop[T byte | int8](w *rma.Window[T], op rmaOp, buf []T, window, iters, skip int) (float64, error) {
	if err := w.Lock(1, false); err != nil {
		return 0, err
	}
	var t0 time.Time
	var err error
	for i := 0; i < iters+skip; i++ {
		if i == skip {
			t0 = time.Now()
		}
		for j := 0; j < window; j++ {
			switch op {
			case rmaPut:
				err = w.Put(buf, 1, 0)
			case rmaGet:
				err = w.Get(buf, 1, 0)
			case rmaAcc:
				err = w.Accumulate(buf, 1, 0, mpi.Sum)
			}
			if err != nil {
				return 0, err
			}
		}
		if err := w.Flush(1); err != nil {
			return 0, err
		}
	}
	sec := time.Since(t0).Seconds()
	return sec, w.Unlock(1)
}
