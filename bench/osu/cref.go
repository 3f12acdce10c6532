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

// ref_post starts nonblocking collective op (REF_BARRIER, REF_BCAST,
// REF_ALLREDUCE, REF_REDUCE, REF_ALLGATHER or REF_ALLTOALL) on the buffers
// of ref_coll.
static int ref_post(int op, void *s, void *r, int size, MPI_Request *req) {
	switch (op) {
	case REF_BARRIER: return MPI_Ibarrier(MPI_COMM_WORLD, req);
	case REF_BCAST: return MPI_Ibcast(s, size, MPI_BYTE, 0, MPI_COMM_WORLD, req);
	case REF_ALLREDUCE: return MPI_Iallreduce(s, r, size, MPI_INT8_T, MPI_SUM, MPI_COMM_WORLD, req);
	case REF_REDUCE: return MPI_Ireduce(s, r, size, MPI_INT8_T, MPI_SUM, 0, MPI_COMM_WORLD, req);
	case REF_ALLGATHER: return MPI_Iallgather(s, size, MPI_BYTE, r, size, MPI_BYTE, MPI_COMM_WORLD, req);
	case REF_ALLTOALL: return MPI_Ialltoall(s, size, MPI_BYTE, r, size, MPI_BYTE, MPI_COMM_WORLD, req);
	}
	return MPI_ERR_OP;
}

static volatile double ref_sink;

// ref_compute is dummyCompute: busy for about d seconds, calling MPI_Test
// on req after each of ntests equal slices.
static int ref_compute(double d, int ntests, MPI_Request *req) {
	double start = MPI_Wtime(), x = ref_sink;
	int flag;
	for (int k = 1; k <= ntests; k++) {
		double until = d * k / ntests;
		while (MPI_Wtime() - start < until)
			for (int j = 0; j < 64; j++) x = x * 0.999999 + 1;
		if (MPI_Test(req, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
	}
	ref_sink = x;
	return 0;
}

// ref_nbc is the C twin of goNonblocking: the pure communication phase
// (post, wait), a barrier, the phase of post, compute with ntests tests,
// wait, a barrier. It stores this rank's averages per iteration in
// out[0] (overall), out[1] (compute) and out[2] (pure communication), in
// seconds, and returns 0 (-1 on an MPI error).
static int ref_nbc(int op, void *s, void *r, int size, int iters, int skip, int ntests, double *out) {
	MPI_Request req;
	double timer = 0, overall = 0, compute = 0;
	for (int i = 0; i < iters + skip; i++) {
		double t0 = MPI_Wtime();
		if (ref_post(op, s, r, size, &req) != MPI_SUCCESS) return -1;
		if (MPI_Wait(&req, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
		double t1 = MPI_Wtime();
		if (i >= skip) timer += t1 - t0;
	}
	if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
	double comm = timer / iters;
	for (int i = 0; i < iters + skip; i++) {
		double t0 = MPI_Wtime();
		if (ref_post(op, s, r, size, &req) != MPI_SUCCESS) return -1;
		double tc = MPI_Wtime();
		if (ref_compute(comm, ntests, &req) != 0) return -1;
		double tw = MPI_Wtime();
		int rc = MPI_Wait(&req, MPI_STATUS_IGNORE);
		double t1 = MPI_Wtime();
		if (rc != MPI_SUCCESS) return -1;
		if (i >= skip) {
			overall += t1 - t0;
			compute += tw - tc;
		}
	}
	if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
	out[0] = overall / iters;
	out[1] = compute / iters;
	out[2] = comm;
	return 0;
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

// cNonblocking is the C twin of goNonblocking for the mpi package's
// nonblocking collectives (no -algorithm).
func cNonblocking(op collOp, s, r []byte, size, iters, skip int) (nbResult, error) {
	var out [3]C.double
	if C.ref_nbc(C.int(op), ptr(s), ptr(r), C.int(size), C.int(iters), C.int(skip), nbcTests, &out[0]) != 0 {
		return nbResult{}, errC
	}
	return nbResult{overall: float64(out[0]), compute: float64(out[1]), comm: float64(out[2])}, nil
}
