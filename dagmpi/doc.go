// Package dagmpi is an SPMD task runtime: every rank of a job builds the
// same task graph by sequential task flow, runs the tasks it owns, and the
// runtime infers and performs every transfer between ranks.
//
//	rt, _ := dagmpi.New(transport)            // one Runtime per rank
//	a, _ := dagmpi.NewData(rt, n, 0, initOn0) // same calls on every rank
//	rt.Submit(func(t *dagmpi.Task) error {
//		scale(a.Buf(t))
//		return nil
//	}, a.ReadWrite(), dagmpi.Name("scale"))
//	v, _ := a.Fetch(0)                        // collective
//	rt.Close()                                // collective
//
// # Vocabulary
//
//   - Rank: one process (or, with package inproc, one goroutine group) of
//     the job. Ranks are numbered 0..Size-1.
//   - Data (handle): a fixed-size typed array known to every rank by its
//     creation index. NewData calls are made in the same order everywhere.
//   - Version: each task that writes a Data creates its next version.
//     Version 0 lives on the Data's home rank.
//   - Location: the one rank that holds a version: the rank of the task that
//     wrote it. Every rank tracks the location of every latest version.
//   - Owner: the rank that runs a task: OnRank if given, otherwise the
//     location of the first Data it writes, otherwise of the first Data it
//     reads ("owner computes").
//   - Replica: a rank's local buffer for a version, either the one it
//     produced or a received copy.
//   - Transfer: a (Data, version, destination) moved once from the
//     version's location to a rank whose task reads it. A received copy is
//     cached until the Data is written again, and freed when its last local
//     reader is done.
//   - Transfer sequence number: transfers between an ordered pair of ranks
//     are numbered in submission order; both sides derive the same number
//     without talking. The message tag is that number modulo the tag bound.
//   - Operation: what a rank does locally: a task body, a send, a receive.
//
// # Collective and local calls, threads, buffers
//
// New, Data methods Read/Write/ReadWrite/Buf/ID/Len and Data.Wait are local.
// NewData, Submit, ProducedOn are made in the same order on every rank (the
// order is hashed and compared), but never block on other ranks; Wait,
// Fetch, FetchAll and Close are collective. A Runtime's methods are called
// from one goroutine, the submitter. Task bodies run on the Runtime's worker
// goroutines, or on its progress goroutine (see the scheduling rule); all
// Transport calls are made from that single progress goroutine
// (Controller.Abort excepted), so an MPI transport needs
// MPI_THREAD_SERIALIZED, not MULTIPLE.
//
// The Runtime owns every buffer. NewData copies the initial contents.
// Data.Buf gives a task its replica for the duration of the body only. Fetch
// returns a fresh slice the caller owns.
//
// # Scheduling rule
//
// An operation runs when every earlier operation of this rank that
// conflicts with it on the same replica has finished: a read waits for the
// last write (RAW); a write waits for every read since the last write (WAR)
// and, when there is none, for the last write (WAW). A receive is a write of
// the new replica; a send is a read of the local one. Ready tasks wait in a
// priority queue (higher Priority first, then submission order) for one of
// WithWorkers goroutines, with one exception (WithInline): a task made
// ready by a finished receive runs on the progress goroutine itself when
// it is the only ready task and no worker is running one, unless an inline
// body recently ran longer than the WithInline bound (50µs); its sends are
// then posted at once, with no hand-off between goroutines. While such a
// body runs this rank polls no transfer. Receives are posted in submission
// order as long as the bytes in flight stay under WithMaxBytesInFlight;
// sends are posted when their data is produced, except that a send waits
// for the earlier send of the same pair with the same tag to be posted,
// because MPI matches equal tags in posting order. At most WithMaxRecvsPosted receives are
// posted at once. Submit blocks while WithMaxPending operations are
// unfinished.
//
// The progress goroutine never burns a core while nothing is pending: it
// blocks on a channel. While transfers are pending it polls the Transport
// hot for WithSpin (500µs) after the last completion or post (reading the
// clock only every few polls); on a Transport that is a Spinner, and while
// no ready task waits for a worker, each poll is a Spin of up to 5µs inside
// the transport (for MPI, MPI_Testsome in a loop within one cgo call),
// which ends early when the Runtime stores a nonzero value in the attention
// word it passes: the submitter, a worker or Close store it whenever they
// hand the progress goroutine something to post or do. Then, on a
// Transport that can wake it (Waker), it blocks; on one that cannot (MPI),
// it dozes for 20ms, polling every ~50µs with nanosleep, and then sleeps
// WithPollInterval (1ms) between polls. (Go timers round sleeps below a
// millisecond up to about a millisecond; two ranks waiting on each other
// with timer sleeps lose that millisecond on every message.) While every
// worker is running a task body, it does not spin or doze at all: it sleeps
// WithPollInterval between polls (a message arriving then could not be
// used before a worker is free, and polling would take the CPU from the
// workers: under mpirun a rank is bound to its cores), and a worker that
// runs out of work, or a task that queues a transfer, wakes it at once.
// Idle workers spin 20µs, then park on a condition variable.
//
// The progress goroutine is not locked to an OS thread unless
// WithLockedThread asks for it (for libraries that keep per-thread state);
// either way an MPI transport needs MPI_THREAD_SERIALIZED or MULTIPLE
// (package p2p checks this), since that thread is not the main thread.
//
// # Invariants
//
//   - Every rank computes the same owner and the same location for every
//     version, from the submission stream alone.
//   - The sender and the receiver of a transfer assign it the same sequence
//     number, so the same tag, whatever the other ranks do; every tag is
//     below the tag bound, forever.
//   - At most one message is in flight for a given (pair, tag) out of
//     order: a send of sequence s is posted only after all sends below
//     s-bound, and receives are posted in sequence order.
//   - A replica's bytes are never written while a send or a task reading
//     them is unfinished, and a received copy is freed once it is stale and
//     unused.
//   - A rank that neither runs a task nor sends it data only updates
//     locations: no lock, no allocation, no closure kept. (About 30 ns per
//     task; see BenchmarkSkip.)
//   - Flow control cannot deadlock: the oldest unfinished operation of the
//     job depends only on older, finished ones.
//
// # Pruned submission
//
// A rank may leave out tasks it takes no part in, if it declares with
// Data.ProducedOn where the versions they wrote live (see its doc), and the
// Runtime is created WithPruned. Transfer inference stays exact because a
// transfer involves only its two ranks, which both submit the task. With
// pruning each rank's cost is its own tasks, not the whole graph's.
//
// # Devices
//
// Runtime.AddDevice registers an accelerator (a Device, which package
// cudaaware implements) with a pool of streams. NewDeviceData makes handles
// whose replicas live in its memory; a task submitted with OnDevice is a
// device task: its body enqueues work on Task.Stream and returns. Its end
// is an event: device tasks of the same pool that depend on it are released
// when it is enqueued and their streams wait for the event (no host
// synchronisation; independent tasks overlap on different streams); every
// other dependent operation waits until the progress goroutine sees the
// event complete. Device replicas move in chunks of DeviceOptions.ChunkBytes,
// directly from device memory with a DeviceTransport (package p2p) and a
// CUDA-aware MPI, otherwise staged through pinned host memory, the copy of
// one chunk overlapping the transfer of the previous one. See device.go.
//
// # Failure
//
// A task that panics or returns an error, a Transport error, a watchdog
// expiry (WithWatchdog: nothing finished for that long while work is
// pending) or a failed consistency check ends the job: the first error is
// returned by Wait, Close and later Submit calls on this rank, and, through
// Controller.Abort, the other ranks fail with an *AbortError carrying the
// message. Messages name the rank, the task (name and submission index) and
// what it waited for, for example:
//
//	dagmpi: rank 1: no progress: nothing finished for 201ms; 2 operations pending
//		task "misplaced" (#0) waiting for 1 earlier operations
//		receive of data 0 from rank 0 (tag 0, transfer 0) for task "misplaced" (#0): posted, not complete
//
// The consistency check at Wait compares a hash of the submission stream
// across ranks (skipped WithPruned) and checks that the identities of all
// inferred sends and receives cancel out. When the streams differ, each
// rank names its own task at the first index where they diverge (exactly
// if it is among the last 256 tasks before the Wait, otherwise between two
// checkpoints of the stream), for example:
//
//	dagmpi: rank 0: ranks submitted different task graphs: this rank submitted 4 tasks, others between 3 and 4 (...);
//		first difference at task #0: here task "extra read" (#0, runs on rank 1) or a NewData just before it
//
// # Rejected designs
//
//   - A stub for every task on every rank, scheduled like a real task (as in
//     Dagger.jl's MPI mode): every rank pays the whole graph's scheduling
//     cost, tens of microseconds per task. Here a rank that takes no part in
//     a task updates a location and moves on.
//   - Tags that grow with the task or transfer count: they exceed
//     MPI_TAG_UB on long runs. Per-pair sequence numbers modulo the bound
//     keep tags small, and ordering sends that share a tag keeps matching
//     exact.
//   - Exchanging transfer metadata at run time (requests, handshakes,
//     wildcard receives): it costs a message per transfer and breaks when
//     ranks race. Both sides infer everything from the same stream.
//   - Calling MPI from every worker: it needs MPI_THREAD_MULTIPLE, which is
//     slow or absent in many MPI builds. One progress goroutine owns the
//     Transport.
//   - Locking the progress goroutine to its OS thread (so that FUNNELED
//     would do if it were the main thread): every yield of a locked
//     goroutine's spin loop becomes a hand-off between OS threads (expected
//     to be costly; not measured), and it still could not be the main
//     thread.
//   - Renaming (a fresh buffer for every version): more parallelism but a
//     buffer per version; write-only tasks reuse the replica after its
//     readers finish, and received copies are fresh buffers.
//   - A global lock-free graph: a single mutex guards the local graph. It is
//     held for tens of nanoseconds per operation and measured at over a
//     million empty tasks per second on one rank.
package dagmpi
