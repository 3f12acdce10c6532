package main

// The C reference loops behind -compare-c. Each one is the C twin of a Go
// loop in p2p.go, coll.go or onesided.go and must stay structurally identical to it: same
// calls in the same order, same buffers (the Go ones, passed for the duration
// of the call only), same datatype, same tags, same iteration and warm-up
// counts, the return code of every MPI call checked, the clock read at the
// same points. They use MPI_COMM_WORLD, which is the communicator the Go
// loops use (mpi.World()).

/*
#cgo !mpich pkg-config: ompi-c
#cgo mpich pkg-config: mpich
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

enum { REF_TAG_DATA = 1, REF_TAG_ACK = 2 };

// Collective operations; the order matches the coll* constants in coll.go.
enum { REF_BARRIER, REF_BCAST, REF_ALLREDUCE, REF_REDUCE, REF_ALLGATHER, REF_ALLTOALL, REF_ALLTOALLV };

// ref_latency runs the ping-pong between ranks 0 and 1 and returns the
// seconds spent in the timed iterations on this rank (-1 on an MPI error).
static double ref_latency(int rank, void *s, void *r, int size, int iters, int skip) {
	MPI_Status st;
	double t0 = 0;
	for (int i = 0; i < iters + skip; i++) {
		if (i == skip) t0 = MPI_Wtime();
		if (rank == 0) {
			if (MPI_Send(s, size, MPI_BYTE, 1, REF_TAG_DATA, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
			if (MPI_Recv(r, size, MPI_BYTE, 1, REF_TAG_DATA, MPI_COMM_WORLD, &st) != MPI_SUCCESS) return -1;
		} else if (rank == 1) {
			if (MPI_Recv(r, size, MPI_BYTE, 0, REF_TAG_DATA, MPI_COMM_WORLD, &st) != MPI_SUCCESS) return -1;
			if (MPI_Send(s, size, MPI_BYTE, 0, REF_TAG_DATA, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
		}
	}
	return MPI_Wtime() - t0;
}

// ref_bw streams windows of window messages from rank 0 to rank 1, which
// answers each window with a 4-byte ack. bidir makes both ranks send and
// receive a window per iteration, without ack. reqs and sts hold 2*window
// entries. Returns the timed seconds (-1 on an MPI error).
static double ref_bw(int rank, int bidir, void *s, void *r, void *ack, int size, int window, int iters, int skip,
		     MPI_Request *reqs, MPI_Status *sts) {
	int peer = 1 - rank;
	double t0 = 0;
	for (int i = 0; i < iters + skip; i++) {
		if (i == skip) t0 = MPI_Wtime();
		if (bidir) {
			for (int j = 0; j < window; j++)
				if (MPI_Irecv(r, size, MPI_BYTE, peer, REF_TAG_DATA, MPI_COMM_WORLD, &reqs[j]) != MPI_SUCCESS) return -1;
			for (int j = 0; j < window; j++)
				if (MPI_Isend(s, size, MPI_BYTE, peer, REF_TAG_DATA, MPI_COMM_WORLD, &reqs[window + j]) != MPI_SUCCESS) return -1;
			if (MPI_Waitall(2 * window, reqs, sts) != MPI_SUCCESS) return -1;
		} else if (rank == 0) {
			for (int j = 0; j < window; j++)
				if (MPI_Isend(s, size, MPI_BYTE, 1, REF_TAG_DATA, MPI_COMM_WORLD, &reqs[j]) != MPI_SUCCESS) return -1;
			if (MPI_Waitall(window, reqs, sts) != MPI_SUCCESS) return -1;
			if (MPI_Recv(ack, 4, MPI_BYTE, 1, REF_TAG_ACK, MPI_COMM_WORLD, &sts[0]) != MPI_SUCCESS) return -1;
		} else {
			for (int j = 0; j < window; j++)
				if (MPI_Irecv(r, size, MPI_BYTE, 0, REF_TAG_DATA, MPI_COMM_WORLD, &reqs[j]) != MPI_SUCCESS) return -1;
			if (MPI_Waitall(window, reqs, sts) != MPI_SUCCESS) return -1;
			if (MPI_Send(ack, 4, MPI_BYTE, 0, REF_TAG_ACK, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
		}
	}
	return MPI_Wtime() - t0;
}

// ref_coll times each call of collective op separately, sums the timed
// iterations and returns that sum in seconds (-1 on an MPI error). size is
// the bytes per rank: the whole message of Bcast, Allreduce and Reduce, the
// block per rank of Allgather and Alltoall, and to each rank in Alltoallv
// (equal counts, packed blocks; the count and displacement arrays are made
// before the loop, as vcounts does in Go). Reductions are MPI_SUM over
// MPI_INT8_T. Every iteration but those of the barrier test ends with an
// untimed barrier, as in the OSU collective tests.
static double ref_coll(int op, void *s, void *r, int size, int iters, int skip) {
	double timer = 0;
	int np;
	if (MPI_Comm_size(MPI_COMM_WORLD, &np) != MPI_SUCCESS) return -1;
	int *counts = malloc(2 * (size_t)np * sizeof(int));
	if (counts == NULL) return -1;
	int *displs = counts + np;
	for (int j = 0; j < np; j++) {
		counts[j] = size;
		displs[j] = j * size;
	}
	for (int i = 0; i < iters + skip; i++) {
		int rc = MPI_SUCCESS;
		double t0 = MPI_Wtime();
		switch (op) {
		case REF_BARRIER: rc = MPI_Barrier(MPI_COMM_WORLD); break;
		case REF_BCAST: rc = MPI_Bcast(s, size, MPI_BYTE, 0, MPI_COMM_WORLD); break;
		case REF_ALLREDUCE: rc = MPI_Allreduce(s, r, size, MPI_INT8_T, MPI_SUM, MPI_COMM_WORLD); break;
		case REF_REDUCE: rc = MPI_Reduce(s, r, size, MPI_INT8_T, MPI_SUM, 0, MPI_COMM_WORLD); break;
		case REF_ALLGATHER: rc = MPI_Allgather(s, size, MPI_BYTE, r, size, MPI_BYTE, MPI_COMM_WORLD); break;
		case REF_ALLTOALL: rc = MPI_Alltoall(s, size, MPI_BYTE, r, size, MPI_BYTE, MPI_COMM_WORLD); break;
		case REF_ALLTOALLV:
			rc = MPI_Alltoallv(s, counts, displs, MPI_BYTE, r, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
			break;
		}
		double t1 = MPI_Wtime();
		if (rc != MPI_SUCCESS) timer = -1;
		if (timer < 0) break;
		if (i >= skip) timer += t1 - t0;
		if (op != REF_BARRIER && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) {
			timer = -1;
			break;
		}
	}
	free(counts);
	return timer;
}

// One-sided operations; the order matches the rma* constants in onesided.go.
enum { REF_PUT, REF_GET, REF_ACC };

// ref_rma is the C twin of goOneSided: a window of winsize bytes from
// MPI_Win_allocate (disp_unit 1, MPI_ERRORS_RETURN); rank 0 locks rank 1
// (shared) once, then per iteration issues window operations of size bytes
// to displacement 0 of rank 1 (MPI_Put from buf, MPI_Get into buf, or
// MPI_Accumulate with MPI_SUM over MPI_INT8_T) and MPI_Win_flush(1), and
// unlocks after the loop; every rank then meets at a barrier and frees the
// window. Returns the timed seconds on rank 0, 0 elsewhere (-1 on an MPI
// error).
static double ref_rma(int rank, int op, void *buf, int winsize, int size, int window, int iters, int skip) {
	void *base;
	MPI_Win win;
	double t = 0;
	int ok = 1;
	if (MPI_Win_allocate(winsize, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win) != MPI_SUCCESS) return -1;
	if (MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN) != MPI_SUCCESS) ok = 0;
	if (ok && rank == 0) {
		double t0 = 0;
		if (MPI_Win_lock(MPI_LOCK_SHARED, 1, 0, win) != MPI_SUCCESS) ok = 0;
		for (int i = 0; ok && i < iters + skip; i++) {
			if (i == skip) t0 = MPI_Wtime();
			for (int j = 0; ok && j < window; j++) {
				int rc;
				switch (op) {
				case REF_PUT: rc = MPI_Put(buf, size, MPI_BYTE, 1, 0, size, MPI_BYTE, win); break;
				case REF_GET: rc = MPI_Get(buf, size, MPI_BYTE, 1, 0, size, MPI_BYTE, win); break;
				default: rc = MPI_Accumulate(buf, size, MPI_INT8_T, 1, 0, size, MPI_INT8_T, MPI_SUM, win); break;
				}
				if (rc != MPI_SUCCESS) ok = 0;
			}
			if (ok && MPI_Win_flush(1, win) != MPI_SUCCESS) ok = 0;
		}
		t = MPI_Wtime() - t0;
		if (ok && MPI_Win_unlock(1, win) != MPI_SUCCESS) ok = 0;
	}
	if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) ok = 0;
	if (MPI_Win_free(&win) != MPI_SUCCESS) ok = 0;
	return ok ? t : -1;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

var errC = errors.New("osu: an MPI call in the C reference loop failed")

// ptr returns the address of b's first byte, valid for the duration of one
// cgo call (b is a Go buffer without Go pointers in it).
func ptr[T byte | int8](b []T) unsafe.Pointer {
	if cap(b) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(b))
}

func cResult(t C.double) (float64, error) {
	if t < 0 {
		return 0, errC
	}
	return float64(t), nil
}

// cLatency is the C twin of goLatency.
func cLatency(rank int, s, r []byte, size, iters, skip int) (float64, error) {
	return cResult(C.ref_latency(C.int(rank), ptr(s), ptr(r), C.int(size), C.int(iters), C.int(skip)))
}

// cBandwidth is the C twin of goBandwidth.
func cBandwidth(rank int, bidir bool, s, r, ack []byte, size, window, iters, skip int) (float64, error) {
	reqs := make([]C.MPI_Request, 2*window)
	sts := make([]C.MPI_Status, 2*window)
	bi := C.int(0)
	if bidir {
		bi = 1
	}
	return cResult(C.ref_bw(C.int(rank), bi, ptr(s), ptr(r), ptr(ack), C.int(size), C.int(window),
		C.int(iters), C.int(skip), &reqs[0], &sts[0]))
}

// cCollective is the C twin of goCollective.
func cCollective(op collOp, s, r []byte, size, iters, skip int) (float64, error) {
	return cResult(C.ref_coll(C.int(op), ptr(s), ptr(r), C.int(size), C.int(iters), C.int(skip)))
}

// cOneSided is the C twin of goOneSided.
func cOneSided(rank int, op rmaOp, buf []byte, winSize, size, window, iters, skip int) (float64, error) {
	return cResult(C.ref_rma(C.int(rank), C.int(op), ptr(buf), C.int(winSize), C.int(size), C.int(window),
		C.int(iters), C.int(skip)))
}
