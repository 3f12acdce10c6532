package main

import (
	"time"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// collOp names a collective; the order matches the REF_* enum in cref.go.
type collOp int

const (
	collBarrier collOp = iota
	collBcast
	collAllreduce
	collReduce
	collAllgather
	collAlltoall
	collAlltoallv
)

// vcounts returns the counts and displacements of an Alltoallv in which
// every rank sends size bytes to each of np ranks, the blocks packed in
// rank order, as osu_alltoallv does.
func vcounts(np, size int) (counts, displs []int) {
	counts, displs = make([]int, np), make([]int, np)
	for i := range counts {
		counts[i], displs[i] = size, i*size
	}
	return counts, displs
}

// int8s views b as []int8 (same memory): reductions use MPI_INT8_T, because
// MPI_BYTE, the datatype of []byte, is not defined for MPI_SUM.
func int8s(b []byte) []int8 {
	if cap(b) == 0 {
		return nil
	}
	return unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

// goCollective times each call of collective op separately and returns the
// sum over the timed iterations (after skip warm-up ones), in seconds. size
// is the bytes per rank: the whole message of Bcast (root 0), Allreduce and
// Reduce (root 0; MPI_SUM over int8), the block per rank of Allgather and
// Alltoall, and what goes to each rank in Alltoallv (equal counts, packed
// blocks). s and r must hold size*np bytes for Allgather, Alltoall and
// Alltoallv.
// Every iteration except those of the barrier test ends with an untimed
// barrier, as in the OSU collective tests. The C twin is ref_coll in
// cref.go.
func goCollective(c *mpi.Comm, op collOp, s, r []byte, size, iters, skip int) (float64, error) {
	np := c.Size()
	var sb, rb []byte
	switch op {
	case collAllgather:
		sb, rb = s[:size], r[:size*np]
	case collAlltoall, collAlltoallv:
		sb, rb = s[:size*np], r[:size*np]
	default:
		sb, rb = s[:size], r[:size]
	}
	si, ri := int8s(sb), int8s(rb)
	counts, displs := vcounts(np, size)
	var timer time.Duration
	for i := 0; i < iters+skip; i++ {
		var err error
		t0 := time.Now()
		switch op {
		case collBarrier:
			err = mpi.Barrier(c)
		case collBcast:
			err = mpi.Bcast(c, sb, 0)
		case collAllreduce:
			err = mpi.Allreduce(c, si, ri, mpi.Sum)
		case collReduce:
			err = mpi.Reduce(c, si, ri, mpi.Sum, 0)
		case collAllgather:
			err = mpi.Allgather(c, sb, rb)
		case collAlltoall:
			err = mpi.Alltoall(c, sb, rb)
		case collAlltoallv:
			err = mpi.Alltoallv(c, sb, counts, displs, rb, counts, displs)
		}
		t1 := time.Now()
		if err != nil {
			return 0, err
		}
		if i >= skip {
			timer += t1.Sub(t0)
		}
		if op != collBarrier {
			if err := mpi.Barrier(c); err != nil {
				return 0, err
			}
		}
	}
	return timer.Seconds(), nil
}
