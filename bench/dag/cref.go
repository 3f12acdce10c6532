//go:build cgo

package main

// The C reference loops of the chain: what MPI itself costs a remote
// dependency, measured in the same job as the runtime's chain. They use
// MPI_COMM_WORLD (the Go ping-pong's communicator) with tags of their own,
// 8-byte messages, and ranks 0 and 1 only.

/*
#cgo !mpich pkg-config: ompi-c
#cgo mpich pkg-config: mpich
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

enum { REF_TAG_PP = 7101, REF_TAG_HOP = 7102 };

// ref_pingpong is the blocking ping-pong of pingPongMPI in C: seconds of
// iters timed round trips after skip untimed ones, on ranks 0 and 1 (-1 on
// an MPI error).
static double ref_pingpong(int rank, int iters, int skip) {
	int64_t s = 0, r = 0;
	double t0 = 0;
	for (int i = 0; i < iters + skip; i++) {
		if (i == skip) t0 = MPI_Wtime();
		if (rank == 0) {
			if (MPI_Send(&s, 8, MPI_BYTE, 1, REF_TAG_PP, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
			if (MPI_Recv(&r, 8, MPI_BYTE, 1, REF_TAG_PP, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
		} else {
			if (MPI_Recv(&r, 8, MPI_BYTE, 0, REF_TAG_PP, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
			if (MPI_Send(&s, 8, MPI_BYTE, 0, REF_TAG_PP, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
		}
	}
	return MPI_Wtime() - t0;
}

// ref_hop is a remote dependency as an asynchronous runtime on MPI must
// carry it, with nothing else: each rank keeps posted receives from the
// other (as the runtime's point-to-point transport does), polls them all
// with MPI_Testsome, and when a value arrives adds one to it, sends it back
// with MPI_Isend and MPI_Test (the send completes later if not at once) and
// posts the receive again. Rank 0 sends first; it returns the seconds of
// iters timed round trips after skip untimed ones (-1 on an MPI error, -2
// when the received values are wrong).
static double ref_hop_loop(int rank, int iters, int skip, int posted, MPI_Request *req, int *idx, int64_t *in) {
	int64_t out = 0;
	int peer = 1 - rank, n = posted + 1, got, done;
	int64_t want = 1 - rank; // rank 0 receives the odd values, rank 1 the even ones
	double t0 = 0;
	for (int j = 0; j < posted; j++)
		if (MPI_Irecv(&in[j], 8, MPI_BYTE, peer, REF_TAG_HOP, MPI_COMM_WORLD, &req[j]) != MPI_SUCCESS) return -1;
	req[posted] = MPI_REQUEST_NULL; // the send in flight
	if (MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
	if (rank == 0) {
		if (skip == 0) t0 = MPI_Wtime();
		if (MPI_Isend(&out, 8, MPI_BYTE, peer, REF_TAG_HOP, MPI_COMM_WORLD, &req[posted]) != MPI_SUCCESS) return -1;
		if (MPI_Test(&req[posted], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
	}
	// Rank 0 receives iters+skip values; rank 1 receives as many and
	// sends each one back. Rank 0's clock starts when the skip-th reply is
	// in, before the send that starts the first timed round trip.
	for (int i = 0; i < iters + skip;) {
		if (MPI_Testsome(n, req, &got, idx, MPI_STATUSES_IGNORE) != MPI_SUCCESS) return -1;
		if (got == MPI_UNDEFINED) return -1;
		for (int k = 0; k < got; k++) {
			int j = idx[k];
			if (j == posted) continue; // the send completed
			if (in[j] != want) return -2;
			want += 2;
			i++;
			if (rank == 0 && i == skip) t0 = MPI_Wtime();
			if (req[posted] != MPI_REQUEST_NULL && MPI_Wait(&req[posted], MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
			out = in[j] + 1;
			if (rank == 1 || i < iters + skip) {
				if (MPI_Isend(&out, 8, MPI_BYTE, peer, REF_TAG_HOP, MPI_COMM_WORLD, &req[posted]) != MPI_SUCCESS) return -1;
				if (MPI_Test(&req[posted], &done, MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
			}
			if (MPI_Irecv(&in[j], 8, MPI_BYTE, peer, REF_TAG_HOP, MPI_COMM_WORLD, &req[j]) != MPI_SUCCESS) return -1;
		}
	}
	double secs = MPI_Wtime() - t0;
	if (req[posted] != MPI_REQUEST_NULL && MPI_Wait(&req[posted], MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
	for (int j = 0; j < posted; j++) {
		if (MPI_Cancel(&req[j]) != MPI_SUCCESS) return -1;
		if (MPI_Wait(&req[j], MPI_STATUS_IGNORE) != MPI_SUCCESS) return -1;
	}
	return secs;
}

// ref_hop is a remote dependency as an asynchronous runtime on MPI must
// carry it, with nothing else: each rank keeps posted receives from the
// other (as the runtime's point-to-point transport does), polls them all
// with MPI_Testsome, and when a value arrives adds one to it, sends it back
// with MPI_Isend and MPI_Test (the send completes later if not at once) and
// posts the receive again. Rank 0 sends first; it returns the seconds of
// iters timed round trips after skip untimed ones (-1 on an MPI error, -2
// when the received values are wrong, -3 when memory ran out). posted >= 1.
static double ref_hop(int rank, int iters, int skip, int posted) {
	MPI_Request *req = malloc((posted + 1) * sizeof *req);
	int *idx = malloc((posted + 1) * sizeof *idx);
	int64_t *in = malloc(posted * sizeof *in);
	double secs = -3;
	if (req && idx && in) secs = ref_hop_loop(rank, iters, skip, posted, req, idx, in);
	free(req);
	free(idx);
	free(in);
	return secs;
}
*/
import "C"

import (
	"errors"
	"fmt"

	"github.com/spmd-go/spmd/mpi"
)

// cReference runs the C ping-pong and the C asynchronous hop between ranks
// 0 and 1 of MPI_COMM_WORLD (the others wait in the barriers) and returns,
// on every rank, the one-way time of each in microseconds: half a round
// trip. posted is the number of receives the hop keeps posted.
func cReference(iters, posted int) (pp, hop float64, err error) {
	w := mpi.World() // the C loops use MPI_COMM_WORLD
	if posted < 1 || iters < 1 {
		// The same on every rank: all return before any collective.
		return 0, 0, fmt.Errorf("C reference loops: %d iterations with %d posted receives: want at least 1 of each", iters, posted)
	}
	me := w.Rank()
	var loc [2]float64
	if err := mpi.Barrier(w); err != nil {
		return 0, 0, err
	}
	if me < 2 {
		loc[0] = float64(C.ref_pingpong(C.int(me), C.int(iters), 100))
	}
	if me < 2 {
		loc[1] = float64(C.ref_hop(C.int(me), C.int(iters), 100, C.int(posted)))
	} else if err := mpi.Barrier(w); err != nil { // ref_hop's barrier
		return 0, 0, err
	}
	// A loop that failed on one rank leaves the other waiting for its
	// messages: end the job.
	switch {
	case loc[0] < 0 || loc[1] == -1:
		err = fmt.Errorf("rank %d: an MPI call of the C reference loops failed", me)
	case loc[1] == -2:
		err = fmt.Errorf("rank %d: the C hop loop received a wrong value", me)
	case loc[1] == -3:
		err = fmt.Errorf("rank %d: the C hop loop could not allocate its %d requests", me, posted)
	}
	if err != nil {
		return 0, 0, errors.Join(err, mpi.Abort(w, 1, err.Error()))
	}
	// Rank 0's times, on every rank.
	all := make([]float64, 2*w.Size())
	if err := mpi.Allgather(w, loc[:], all); err != nil {
		return 0, 0, err
	}
	return all[0] / float64(iters) / 2 * 1e6, all[1] / float64(iters) / 2 * 1e6, nil
}
