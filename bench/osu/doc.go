// Command osu measures the spmd mpi binding with the tests of the OSU
// micro-benchmarks and prints their table layout (7.4), so that its output
// can be put side by side with OSU's:
//
//	go build -o osu ./bench/osu
//	mpirun -np 2 ./osu latency
//	mpirun -np 4 ./osu allreduce -m 1024:1048576 -compare-c
//
// Tests: latency, bw, bibw and the one-sided put-latency, get-latency,
// acc-latency, put-bw, get-bw (exactly 2 ranks); allreduce, bcast,
// alltoall, alltoallv, allgather, reduce, barrier and the nonblocking
// iallreduce, ibcast, ialltoall, iallgather, ireduce (any number of ranks).
// Only rank 0 prints.
//
// # Layout
//
// An empty line, the title ("# spmd Go MPI Latency Test" where OSU prints
// "# OSU MPI Latency Test v7.4"), "# Datatype: MPI_CHAR." and the column
// headers, then one row per size: the size as %-10d and each value as
// %20.2f under a first value header 18 wide, as OSU prints them (the
// barrier test has no size column and
// prints its value %17.2f under "# Avg Latency(us)"). -f adds OSU's Min and
// Max latency over ranks and the Iterations column (%12d). -compare-c adds
// two columns of ours: the C loop's value (%20.2f) and Go/C (%20.3f). -json
// replaces the table with one JSON object per row: test, size, value,
// unit, ranks, iterations, warmup, min and max (collectives), c_value and
// ratio (-compare-c).
//
// # What is measured
//
// The semantics are OSU's. latency: ping-pong of blocking Send and Recv
// between ranks 0 and 1; the value is half the round trip. bw: rank 0 posts
// a window (-W, 64) of Isends and Waitalls them, rank 1 posts as many
// Irecvs, Waitalls and answers with a 4-byte ack; MB/s is 10^6 bytes per
// second, measured on rank 0. bibw: both ranks post a window of Irecvs and
// of Isends and Waitall the lot, no ack; the bytes of both directions
// count. Collectives: each call is timed on its own, an untimed barrier
// follows it (not in the barrier test), each rank averages its timed calls,
// and rank 0 reports the sum over ranks divided by the number of ranks, with
// the min and max for -f. Bcast and Reduce use root 0. Reductions are
// MPI_SUM.
//
// alltoallv is osu_alltoallv: MPI_Alltoallv with size bytes to every rank
// (equal counts, blocks packed in rank order).
//
// One-sided tests make a window of the largest size (-m MAX) on every rank
// as -w says, OSU's option: allocate (MPI_Win_allocate, rma.Allocate; the
// default), create (MPI_Win_create over a Go buffer, rma.Create) or
// dynamic (MPI_Win_create_dynamic, then each rank attaches a Go buffer and
// rank 0 learns rank 1's address). Rank 0, the origin, issues per
// iteration one operation (latency tests) or a window of -W operations
// (bandwidth tests) of size bytes to the start of rank 1's memory,
// synchronised as -s says, OSU's option: flush (the default: lock rank 1
// shared once, MPI_Win_flush(1) per iteration, unlock after the loop),
// flush_local (likewise with MPI_Win_flush_local), lock (lock and unlock
// around each iteration's operations), lock_all (MPI_Win_lock_all once,
// MPI_Win_flush(1) per iteration), fence (every rank calls MPI_Win_fence
// before the loop and after each iteration's operations) or pscw (per
// iteration rank 1 posts and waits, rank 0 starts, issues and completes).
// Under fence and pscw the latency tests are OSU's ping-pong instead: in
// each iteration rank 0 operates on rank 1, then rank 1 on rank 0 (fence:
// fence, rank 0's operation, fence, rank 1's, fence; pscw: each rank in
// turn starts, operates and completes while the other posts and waits),
// and the latency is half the iteration. Every test takes every
// combination. In the passive modes rank 1 only waits at a barrier. put: MPI_Put; get: MPI_Get; acc:
// MPI_Accumulate with MPI_SUM over int8. Latency is the time per
// iteration; bandwidth is size*W bytes per iteration, 10^6 bytes per
// second. Unlike OSU's bandwidth tests, the operations of a window all
// target displacement 0 (OSU spreads them over a window of size*W bytes).
// These tests print no empty line first, and name the window creation
// ("# Window creation: MPI_Win_allocate", MPI_Win_create or
// MPI_Win_create_dynamic) and the synchronisation ("# Synchronization:
// MPI_Win_flush", MPI_Win_flush_local, MPI_Win_lock/unlock,
// MPI_Win_lock_all/unlock_all, MPI_Win_fence or
// MPI_Win_post/start/complete/wait) under the title, as OSU does. Defaults: sizes
// 1:4194304, latency schedule for the latency tests, bw's for the
// bandwidth tests.
//
// # Nonblocking collectives
//
// iallreduce, ibcast, ialltoall, iallgather and ireduce follow OSU's
// osu_i* tests with the mpi package's Iallreduce, Ibcast (root 0),
// Ialltoall, Iallgather and Ireduce (root 0). For each size each rank
// first times the pure communication: post, then wait at once. Then, with
// that average as the target, each iteration posts, runs a dummy compute
// (a busy loop, no MPI) of about the target time that calls Test after each
// eighth of it, and waits. Overall is the time from the post to the end of
// the wait, Compute the time of the compute with its Tests, Pure Comm. the
// first phase's time; each phase has its own warm-up, ends with a barrier,
// and has no barrier between iterations. Each is averaged over the
// iterations, then over ranks at rank 0, and Overlap(%) is OSU's max(0,
// 100 - (overall - compute) / comm * 100) of those averages (also at most
// 100, which only timer noise would exceed). The header is OSU's: the title
// ("# spmd Go MPI Non-blocking Allreduce Latency Test"), "# Overall = Coll.
// Init + Compute + MPI_Test + MPI_Wait", an empty line, the datatype, then
// "# Size" and the columns Overall(us), Compute(us), Pure Comm.(us) and
// Overlap(%). -compare-c runs ref_nbc, the C twin of the whole
// measurement (MPI_I* on MPI_COMM_WORLD, the same dummy compute reading
// MPI_Wtime, MPI_Test after each eighth), and adds three columns: C
// Overall(us), C Overlap(%) and Go/C of the overall times (%18.3f: every
// column of these tests is 18 wide, as OSU's nonblocking tests print); with
// -algorithm the C loop is still MPI's own nonblocking collective. -json
// gives the overall time as value, and compute, pure_comm and overlap
// (c_value, ratio and c_overlap with -compare-c). -f is refused.
//
// Messages are bytes: []byte (MPI_BYTE) for data movement and []int8
// (MPI_INT8_T) for reductions, because MPI_SUM is not defined on MPI_BYTE.
// Both move 1-byte elements like OSU's MPI_CHAR, whose datatype line the
// header keeps so that the tables line up.
//
// # Collective algorithms (-algorithm)
//
// bcast, allreduce, reduce, alltoall and alltoallv take -algorithm
// ALG[,ALG...] to time the algorithms of package collective over the whole
// world instead of the mpi package's blocking call: binomial, chain,
// scatter-allgather (bcast), ring, recursive-doubling, rabenseifner
// (allreduce, reduce; binomial for reduce too), direct (alltoall and
// alltoallv, both run as collective.Alltoallv with equal counts), default
// (the package's choice by size), native (the MPI library's
// Ibcast/Iallreduce/Ireduce/Ialltoallv on the package's cached
// sub-communicator, then Wait) and mpi (the mpi package's blocking call,
// what runs without -algorithm). ibcast, iallreduce and ireduce take one
// such algorithm: the operation of package collective is then what is
// posted, tested during the compute and waited for. A
// timed call makes the operation and waits for it (Op.Wait). With one
// algorithm the table is the usual one, the title naming the algorithm;
// -compare-c then sets it beside the C loop of MPI's own collective, and
// -json adds an "algorithm" field. With several the algorithms run one
// after the other for each size, in the same process, and the table has
// one value column per algorithm, headed by its name (-json: one object per
// algorithm and size), so that they compare as ratios within one run:
//
//	mpirun -np 4 ./osu bcast -m 1:1048576 -algorithm mpi,native,binomial,chain,scatter-allgather
//
// # Iterations
//
// Every rank parses the same command line and so runs the same fixed
// counts. Defaults, per size: latency 10000 timed after 1000 warm-up
// iterations up to 8 KiB and 1000 after 100 above; bw and bibw 100 after 10
// at every size; collectives and barrier 1000 after 100 up to 8 KiB and 100
// after 10 above. -i and -x set the timed and warm-up counts for all sizes.
// Sizes double from -m MIN to MAX (0 is followed by 1); defaults: latency
// 0:1048576, the others 1:1048576.
//
// # The C reference (-compare-c)
//
// cref.go holds, in its cgo preamble, a C twin of each Go loop (for the
// one-sided tests, of the default -w allocate -s flush only; other
// combinations refuse -compare-c): the same MPI
// calls in the same order on MPI_COMM_WORLD, the same buffers (the Go ones,
// lent for the duration of the call), datatypes, tags and counts, every
// return code checked, the clock read at the same points. For each size the
// Go loop runs, then the C loop (-c-first reverses the order), each after a
// barrier and with its own warm-up, in the same process, so both see the
// same placement and the same shared-memory mode. The Go loops read the
// clock with time.Now (vDSO, no cgo crossing), the C loops with MPI_Wtime.
//
// # Thread level
//
// -thread (default funneled) is the level asked of MPI_Init_thread. The
// program makes every MPI call from the main goroutine, which the mpi
// package locks to the main thread, so funneled is enough; it is also what
// OSU's MPI_Init gets in practice (Open MPI takes no locks below multiple).
// -thread multiple measures what a program using the binding's default
// Init pays.
package main
