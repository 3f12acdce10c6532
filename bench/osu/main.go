package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/spmd-go/spmd/mpi"
)

// class groups tests by how they run and report.
type class int

const (
	p2p      class = iota // exactly 2 ranks; rank 0's measurement is the result
	coll                  // average over ranks of each rank's average time
	barrier               // like coll, without a size column
	onesided              // exactly 2 ranks, rank 0 origin, rank 1 target; rank 0's measurement
)

// test describes one subcommand.
type test struct {
	name    string
	title   string // OSU's title with "OSU" replaced by "spmd Go" and no version
	class   class
	header  string // OSU's value column header
	cHeader string // header of the -compare-c column
	unit    string
	op      collOp // collectives only
	bidir   bool   // bibw
	rop     rmaOp  // one-sided tests only
	rmaBW   bool   // one-sided bandwidth: a window of operations per flush
	nb      bool   // nonblocking collective: overall, compute, pure communication, overlap
	defMin  int
	defMax  int
	// iterations and warm-up iterations for a message of size bytes, unless
	// -i and -x override them.
	sched func(size int) (iters, skip int)
}

// largeMessage is the size above which latency and collective tests use
// fewer iterations, as OSU does (its LARGE_MESSAGE_SIZE).
const largeMessage = 8192

func latencySched(size int) (int, int) {
	if size > largeMessage {
		return 1000, 100
	}
	return 10000, 1000
}

func bwSched(int) (int, int) { return 100, 10 }

func collSched(size int) (int, int) {
	if size > largeMessage {
		return 100, 10
	}
	return 1000, 100
}

const mib = 1 << 20

var tests = []*test{
	{name: "latency", title: "MPI Latency Test", class: p2p, header: "Avg Latency(us)", cHeader: "C Latency(us)",
		unit: "us", defMin: 0, defMax: mib, sched: latencySched},
	{name: "bw", title: "MPI Bandwidth Test", class: p2p, header: "Bandwidth (MB/s)", cHeader: "C Bandwidth(MB/s)",
		unit: "MB/s", defMin: 1, defMax: mib, sched: bwSched},
	{name: "bibw", title: "MPI Bi-Directional Bandwidth Test", class: p2p, header: "Bandwidth (MB/s)",
		cHeader: "C Bandwidth(MB/s)", unit: "MB/s", bidir: true, defMin: 1, defMax: mib, sched: bwSched},
	{name: "put-latency", title: "MPI_Put Latency Test", class: onesided, rop: rmaPut, header: "Latency (us)",
		cHeader: "C Latency(us)", unit: "us", defMin: 1, defMax: 4 * mib, sched: latencySched},
	{name: "get-latency", title: "MPI_Get latency Test", class: onesided, rop: rmaGet, header: "Latency (us)",
		cHeader: "C Latency(us)", unit: "us", defMin: 1, defMax: 4 * mib, sched: latencySched},
	{name: "acc-latency", title: "MPI_Accumulate latency Test", class: onesided, rop: rmaAcc, header: "Latency (us)",
		cHeader: "C Latency(us)", unit: "us", defMin: 1, defMax: 4 * mib, sched: latencySched},
	{name: "put-bw", title: "MPI_Put Bandwidth Test", class: onesided, rop: rmaPut, rmaBW: true,
		header: "Bandwidth (MB/s)", cHeader: "C Bandwidth(MB/s)", unit: "MB/s", defMin: 1, defMax: 4 * mib, sched: bwSched},
	{name: "get-bw", title: "MPI_Get Bandwidth Test", class: onesided, rop: rmaGet, rmaBW: true,
		header: "Bandwidth (MB/s)", cHeader: "C Bandwidth(MB/s)", unit: "MB/s", defMin: 1, defMax: 4 * mib, sched: bwSched},
	{name: "allreduce", title: "MPI Allreduce Latency Test", class: coll, op: collAllreduce},
	{name: "bcast", title: "MPI Broadcast Latency Test", class: coll, op: collBcast},
	{name: "alltoall", title: "MPI Alltoall Latency Test", class: coll, op: collAlltoall},
	{name: "allgather", title: "MPI Allgather Latency Test", class: coll, op: collAllgather},
	{name: "reduce", title: "MPI Reduce Latency Test", class: coll, op: collReduce},
	{name: "alltoallv", title: "MPI Alltoallv Latency Test", class: coll, op: collAlltoallv},
	{name: "barrier", title: "MPI Barrier Latency Test", class: barrier, op: collBarrier},
	{name: "iallreduce", title: "MPI Non-blocking Allreduce Latency Test", class: coll, op: collAllreduce, nb: true},
	{name: "ibcast", title: "MPI Non-blocking Broadcast Latency Test", class: coll, op: collBcast, nb: true},
	{name: "ialltoall", title: "MPI Non-blocking Alltoall Latency Test", class: coll, op: collAlltoall, nb: true},
	{name: "iallgather", title: "MPI Non-blocking Allgather Latency Test", class: coll, op: collAllgather, nb: true},
	{name: "ireduce", title: "MPI Non-blocking Reduce Latency Test", class: coll, op: collReduce, nb: true},
	{name: "ibarrier", title: "MPI Non-blocking Barrier Latency Test", class: barrier, op: collBarrier, nb: true},
}

func init() {
	for _, t := range tests {
		if t.class == coll || t.class == barrier {
			t.header, t.cHeader, t.unit = "Avg Latency(us)", "C Latency(us)", "us"
			t.defMin, t.defMax, t.sched = 1, mib, collSched
		}
	}
}

func findTest(name string) *test {
	for _, t := range tests {
		if t.name == name {
			return t
		}
	}
	return nil
}

// options are the command-line options; every rank parses the same command
// line, so every rank has the same options and runs the same iterations.
type options struct {
	min, max int
	iters    int // 0: the test's schedule
	skip     int // -1: the test's schedule
	window   int
	full     bool
	compareC bool
	json     bool
	cFirst   bool
	thread   mpi.ThreadLevel
	algs     []algorithm // -algorithm; nil: the mpi package's blocking collective
	win      winKind     // -w, one-sided tests
	sync     syncKind    // -s, one-sided tests
}

func usage(w io.Writer, fs *flag.FlagSet) {
	names := make([]string, len(tests))
	for i, t := range tests {
		names[i] = t.name
	}
	sort.Strings(names)
	fmt.Fprintf(w, "usage: mpirun -np N osu TEST [options]\n\nTEST is one of: %s\n\noptions:\n", strings.Join(names, ", "))
	if fs != nil {
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}

// parseArgs parses TEST [options]. It does not touch MPI, so every rank
// reaches the same verdict on the same command line.
func parseArgs(args []string, stderr io.Writer) (*test, *options, error) {
	fs := flag.NewFlagSet("osu", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &options{}
	sizes := fs.String("m", "", "message sizes `MIN:MAX` in bytes (or just MAX), doubling from MIN")
	fs.IntVar(&o.iters, "i", 0, "timed iterations per size (default: the test's schedule, see the package doc)")
	fs.IntVar(&o.skip, "x", -1, "warm-up iterations per size (default: the test's schedule)")
	fs.IntVar(&o.window, "W", 64, "window of nonblocking sends or one-sided operations per iteration (bw, bibw, put-bw, get-bw)")
	fs.BoolVar(&o.full, "f", false, "also print Min and Max latency over ranks and the iteration count (collectives)")
	fs.BoolVar(&o.compareC, "compare-c", false, "also run the C reference loop for each size and print its value and the Go/C ratio")
	fs.BoolVar(&o.cFirst, "c-first", false, "with -compare-c, run the C loop before the Go loop for each size")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per result row instead of the table")
	algs := fs.String("algorithm", "", "bcast, allreduce, reduce, alltoall, alltoallv: run the collective package's `ALG[,ALG...]` (binomial, chain, scatter-allgather, ring, recursive-doubling, rabenseifner, direct, default, native = the MPI library's through package collective, mpi = the mpi package's blocking call); several give one column each; ibcast, iallreduce, ireduce take one")
	win := fs.String("w", "allocate", "one-sided tests: window creation, `allocate` (MPI_Win_allocate), create (MPI_Win_create) or dynamic (MPI_Win_create_dynamic and MPI_Win_attach)")
	sync := fs.String("s", "flush", "one-sided tests: synchronisation, `flush` (lock once, MPI_Win_flush per iteration), flush_local, lock (lock and unlock per iteration), lock_all, fence or pscw (post/start/complete/wait)")
	thread := fs.String("thread", "funneled", "MPI thread level to ask for: `single`, funneled, serialized or multiple")
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		usage(stderr, fs)
		return nil, nil, errors.New("osu: no test named")
	}
	t := findTest(args[0])
	if t == nil {
		usage(stderr, fs)
		return nil, nil, fmt.Errorf("osu: unknown test %q", args[0])
	}
	if err := fs.Parse(args[1:]); err != nil {
		usage(stderr, fs)
		return nil, nil, fmt.Errorf("osu: %v", err)
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("osu: unexpected argument %q", fs.Arg(0))
	}
	levels := map[string]mpi.ThreadLevel{"single": mpi.ThreadSingle, "funneled": mpi.ThreadFunneled,
		"serialized": mpi.ThreadSerialized, "multiple": mpi.ThreadMultiple}
	var ok bool
	if o.thread, ok = levels[*thread]; !ok {
		return nil, nil, fmt.Errorf("osu: bad -thread %q: want single, funneled, serialized or multiple", *thread)
	}
	var err error
	if o.algs, err = parseAlgorithms(t, *algs); err != nil {
		return nil, nil, err
	}
	if len(o.algs) > 1 && (o.full || o.compareC) {
		return nil, nil, errors.New("osu: -f and -compare-c take a single -algorithm")
	}
	if t.nb && len(o.algs) > 1 {
		return nil, nil, fmt.Errorf("osu: %s takes a single -algorithm, not %d", t.name, len(o.algs))
	}
	if t.nb && o.full {
		return nil, nil, fmt.Errorf("osu: -f does not apply to the nonblocking test %s", t.name)
	}
	if err := o.parseOneSided(t, *win, *sync); err != nil {
		return nil, nil, err
	}
	o.min, o.max = t.defMin, t.defMax
	if *sizes != "" {
		if o.min, o.max, err = parseSizes(*sizes, t.defMin); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case o.iters < 0:
		return nil, nil, errors.New("osu: -i must be positive")
	case o.skip < -1:
		return nil, nil, errors.New("osu: -x must not be negative")
	case o.window < 1 || o.window > 1<<14:
		return nil, nil, errors.New("osu: -W must be in 1..16384")
	case o.full && (t.class == p2p || t.class == onesided):
		return nil, nil, fmt.Errorf("osu: -f applies to the collective tests, not to %s", t.name)
	}
	return t, o, nil
}

func parseSizes(s string, defMin int) (int, int, error) {
	lo, hi, found := strings.Cut(s, ":")
	if !found {
		lo, hi = "", s
	}
	min, max := defMin, 0
	var err error
	if lo != "" {
		if min, err = strconv.Atoi(lo); err != nil {
			return 0, 0, fmt.Errorf("osu: bad -m %q: %v", s, err)
		}
	}
	if max, err = strconv.Atoi(hi); err != nil {
		return 0, 0, fmt.Errorf("osu: bad -m %q: %v", s, err)
	}
	if min < 0 || max < min || max > 1<<30 {
		return 0, 0, fmt.Errorf("osu: bad -m %q: want 0 <= MIN <= MAX <= 2^30", s)
	}
	return min, max, nil
}

// sizes lists the message sizes from min to max: min, then doubling (0 is
// followed by 1), as OSU does.
func (o *options) sizes() []int {
	var out []int
	for n := o.min; n <= o.max; {
		out = append(out, n)
		if n == 0 {
			n = 1
		} else {
			n *= 2
		}
	}
	return out
}

func (o *options) schedule(t *test, size int) (int, int) {
	iters, skip := t.sched(size)
	if o.iters > 0 {
		iters = o.iters
	}
	if o.skip >= 0 {
		skip = o.skip
	}
	return iters, skip
}

func main() {
	// Usage errors are found before MPI starts, on every rank alike; only
	// the launcher's rank 0 (or a process started without a launcher) says
	// so.
	stderr := io.Discard
	if r := launcherRank(); r == "" || r == "0" {
		stderr = os.Stderr
	}
	t, o, err := parseArgs(os.Args[1:], stderr)
	if err != nil {
		fmt.Fprintln(stderr, err)
		os.Exit(2)
	}
	if _, err := mpi.InitThread(o.thread); err != nil {
		fmt.Fprintln(os.Stderr, "osu:", err)
		os.Exit(1)
	}
	w := mpi.World()
	code := 0
	if err := run(w, t, o, os.Stdout); err != nil {
		var se *sizeError
		if !errors.As(err, &se) {
			w.Abort(1, err.Error())
		}
		if w.Rank() == 0 {
			fmt.Fprintln(os.Stderr, err)
		}
		code = 1
	}
	if err := mpi.Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, "osu:", err)
		code = 1
	}
	os.Exit(code)
}

// launcherRank returns this process's rank as the launcher's environment
// tells it (Open MPI, MPICH/Hydra, Slurm), or "" when there is none.
func launcherRank() string {
	for _, v := range []string{"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"} {
		if r, ok := os.LookupEnv(v); ok {
			return r
		}
	}
	return ""
}
