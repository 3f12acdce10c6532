// Package collective runs broadcast, reduction and all-to-all algorithms
// over any set of ranks of a communicator, without creating communicators,
// as nonblocking state machines that a progress loop advances, so that a
// runtime can have many in flight beside computing tasks.
//
// # Operations and algorithms
//
//	Bcast      Binomial, Chain (pipelined, Spec.Chunk), ScatterAllgather, Native
//	Reduce     Binomial, Ring, RecursiveDoubling, Rabenseifner, Native
//	Allreduce  Ring, RecursiveDoubling, Rabenseifner, Native
//	Alltoallv  Direct, Native
//
// Each is a generic function over the element types of package mpi
// (mpi.Elem) that returns an *Op. Reductions take the predefined mpi.Op
// values (Sum, Prod, Max, Min, the logical and bitwise ones, MaxLoc and
// MinLoc) and combine in Go with MPI's semantics. Recursive doubling and
// Rabenseifner fold the extra members into their neighbours when the number
// of members is not a power of two. Native is the MPI library's own
// nonblocking collective (Ibcast, Ireduce, Iallreduce, Ialltoallv) on a
// sub-communicator of the members, made with MPI_Comm_create_group the
// first time a member set is used and cached in the Context (Prepare makes
// it ahead of time; Close frees them).
//
// # Members
//
// Spec.Members lists the communicator ranks taking part, in an order that
// defines each member's index; trees and rings are built over indices (the
// root of Bcast and Reduce is Spec.Root, an index; IndexOf turns a rank into
// one). nil means the whole communicator in rank order. An empty list, a
// duplicate, a rank outside the communicator, a root index outside the list
// or a negative chunk size is an error on every rank (ErrMembers, ErrRoot,
// ErrChunk), before any message moves. Lengths that must agree across
// members cannot all be checked locally: a receive that brings fewer
// elements than expected is an ErrLength error naming both ranks, one that
// brings more is MPI's truncation error.
//
// # Progress
//
// Making an Op posts its first messages. Op.Progress (or Test) then tests
// the messages of the current step with one MPI_Testall and, when they have
// completed, combines what arrived and posts the next step; it never
// blocks and starts no goroutine. Op.Wait loops on the same test, yielding
// the processor between tests. TestAll and WaitAll advance several operations together: members
// may wait on each other's operations in different orders, so a rank that
// has several in flight must advance all of them, not Wait on one. The
// buffers belong to the operation until Done: every send and receive is an
// mpi.Isend or mpi.Irecv whose Request keeps its buffer pinned until it
// completes. A Context and its Ops are driven from one goroutine (for
// example the runtime's progress goroutine); MPI_THREAD_SERIALIZED suffices.
//
// # Tags
//
// Every operation has a sequence number s and all its messages carry the
// tag base + s mod count, where [base, base+count) is the Context's tag range
// (Tags; by default every tag 0..TagUB of the communicator, so tags never
// exceed TagUB however long the program runs). Within one operation the
// messages between two ranks are matched in posting order, which MPI keeps
// for equal tags; operations in flight at once have different tags, so
// they never take each other's messages.
//
// Sequence numbers come from one of two sources:
//
//   - Spec.Seq zero (the default): the Context counts the calls. Every rank
//     of the communicator then makes every call, members and non-members
//     alike, in the same order (the SPMD rule of package dagmpi); a
//     non-member's call only advances the count and returns a finished Op.
//   - Spec.Seq not zero: the caller numbers the operation, for example from
//     a transfer identity that every rank derives anyway, and only the
//     members need to call. The numbers must agree across members, and
//     operations in flight on a pair of ranks at once must differ modulo
//     count. Do not mix both sources on one Context unless the explicit
//     numbers are kept apart from the counter's (1, 2, 3, ...).
//
// A new operation whose tag is still used by one in flight on this rank is
// an ErrTags error rather than a silent cross-match; a tag is reused only
// after count further operations, so count must also exceed how far apart
// the ranks may be in their sequence of operations.
//
// The Native algorithm's messages travel on the sub-communicator in MPI's
// collective context and never meet the point-to-point ones; MPI requires
// that the members start nonblocking collectives on a sub-communicator in
// the same order, which both sources of sequence numbers give.
//
// # Errors
//
// Bad input returns an error wrapping one of the Err* sentinels before any
// message moves. An MPI failure during an operation ends it with an error
// wrapping the *mpi.Error; its pending receives are cancelled. Other
// members cannot know and may wait for it forever: as with MPI itself, an
// error in a collective is fatal to the job, and the caller aborts.
package collective
