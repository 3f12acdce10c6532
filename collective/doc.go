// Package collective will hold broadcast and reduction algorithms over an
// arbitrary set of ranks of a communicator, without creating communicators
// (binomial tree, pipelined chain, scatter-allgather; ring, recursive
// doubling, Rabenseifner; alltoallv), written as nonblocking state machines
// that a progress loop advances, so that the dagmpi runtime can run many at
// once beside computing tasks.
//
// Nothing is implemented yet: the package only reserves its place in the
// layout (mpi -> rma/collective -> dagmpi -> blockcyclic). Until it lands,
// use the native collectives of package mpi (Ibcast, Iallreduce, ...).
package collective
