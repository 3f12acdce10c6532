// Package lademo is the shared frame of the linear-algebra demo programs
// (cmd/mpirun-examples/cholesky, .../gemm): their common flags, the MPI and
// dagmpi set-up, the DGEMM yardstick, the time split of a run and the report
// (text, or one JSON object on rank 0).
//
// A program defines its own extra flags on flag.CommandLine, then calls Main
// with a body that builds its matrices, runs and measures the routine with
// Env.Time, checks it, and returns a Result:
//
//	func main() {
//		lademo.Main("potrf", 4096, 256, func(e *lademo.Env) (*lademo.Result, error) { ... })
//	}
package lademo

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/exrun"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/mux"
	"github.com/spmd-go/spmd/mpi"
)

// Flags are the common flags, registered on flag.CommandLine by Main.
type Flags struct {
	N, NB     int
	P, Q      int    // process grid; 0: chosen from the number of ranks
	GridOrder string // "row" or "col"
	Transport string // p2p, rma, collective or auto (dagmpi/mux)
	Trace     string // Chrome trace file ("" none); rank r > 0 writes FILE.r
	JSON      bool
	ScaLAPACK bool // also run the ScaLAPACK routine (needs -tags scalapack)
	Check     bool // compute the residual
	DGEMM     bool // measure the DGEMM yardstick
	ScaNB     int  // ScaLAPACK block size (0: same as -nb)
	Workers   int
	Pruned    bool
	Watchdog  time.Duration
	Spin      time.Duration
	Poll      time.Duration
}

// Env is what a program's body gets: the job, its Runtime over the chosen
// transport and the 2D block-cyclic distribution from the flags.
type Env struct {
	Flags *Flags
	Comm  *mpi.Comm
	RT    *dagmpi.Runtime
	Dist  blockcyclic.Cyclic2D
	Order blockcyclic.Order
	Rank  int
	Size  int

	busy  busyObserver
	trace *dagmpi.ChromeTrace
	split Split
}

// Split is a run's time split, averaged over the ranks and over each rank's
// workers: Compute is the time workers spent in task bodies, Idle the rest
// of the run's wall time (waiting for work or data), Comm the wall time with
// at least one transfer in flight (it overlaps the other two).
type Split struct {
	Compute float64 `json:"compute_s"`
	Comm    float64 `json:"comm_s"`
	Idle    float64 `json:"idle_s"`
	// Bytes the runtime sent during the timed part: all ranks together, and
	// the rank that sent most.
	BytesSent        int64 `json:"bytes_sent"`
	BytesSentMaxRank int64 `json:"bytes_sent_max_rank"`
	// BytesByTransport splits BytesSent (all ranks) by the path that
	// carried it (dagmpi.Stats.ByTransport: "p2p" and "rma" under the
	// auto transport, "tree" for broadcast-tree forwards); it sums to
	// BytesSent.
	BytesByTransport map[string]int64 `json:"bytes_by_transport"`
}

// Result is what a body reports. Seconds and Flops give our rate; the
// ScaLAPACK fields are set only when the ScaLAPACK routine ran.
type Result struct {
	Routine          string
	Seconds          float64 // slowest rank's time of the routine
	Flops            float64 // floating-point operations of the routine
	Residual         float64 // scaled residual; NaN or 0 when not checked
	Checked          bool
	ScaLAPACKSeconds float64
	ScaLAPACKNB      int
	ScaLAPACKResid   float64
	Extra            map[string]any // more JSON fields
	Notes            []string       // more lines, printed last without -json
}

// Report is the JSON object printed on rank 0 with -json.
type Report struct {
	Routine          string         `json:"routine"`
	N                int            `json:"n"`
	NB               int            `json:"nb"`
	P                int            `json:"p"`
	Q                int            `json:"q"`
	GridOrder        string         `json:"grid_order"`
	Ranks            int            `json:"ranks"`
	Workers          int            `json:"workers"`
	Transport        string         `json:"transport"`
	Routes           string         `json:"routes,omitempty"` // auto: what goes point-to-point, what one-sided (mux.Auto.Describe)
	Pruned           bool           `json:"pruned,omitempty"`
	Seconds          float64        `json:"seconds"`
	GFlops           float64        `json:"gflops"`
	Residual         *float64       `json:"residual,omitempty"`
	Kernels          string         `json:"kernels"`
	DGEMMGFlops      float64        `json:"dgemm_gflops,omitempty"`
	DGEMMFraction    float64        `json:"dgemm_fraction,omitempty"`
	Split            Split          `json:"split"`
	ScaLAPACKGFlops  float64        `json:"scalapack_gflops,omitempty"`
	ScaLAPACKSeconds float64        `json:"scalapack_seconds,omitempty"`
	ScaLAPACKNB      int            `json:"scalapack_nb,omitempty"`
	ScaLAPACKResid   *float64       `json:"scalapack_residual,omitempty"`
	Ratio            float64        `json:"ratio,omitempty"`
	Extra            map[string]any `json:"extra,omitempty"`

	notes []string
}

// Main is the whole program: it selects OpenBLAS's kernels, parses the
// flags (the common ones plus any the program defined), initialises MPI,
// creates the Runtime and distribution, measures the DGEMM yardstick, calls
// body, prints the report and exits (non-zero on error, after printing it).
func Main(routine string, defN, defNB int, body func(*Env) (*Result, error)) {
	selErr := kernels.SelectCore()
	f := &Flags{}
	flag.IntVar(&f.N, "n", defN, "matrix order N")
	flag.IntVar(&f.NB, "nb", defNB, "tile size NB (square tiles)")
	flag.IntVar(&f.P, "p", 0, "process grid rows (0: chosen from the number of ranks, P <= Q)")
	flag.IntVar(&f.Q, "q", 0, "process grid columns (0: ranks / P)")
	flag.StringVar(&f.GridOrder, "grid-order", "row", "rank numbering on the grid: row or col (BLACS 'R' or 'C')")
	flag.StringVar(&f.Transport, "transport", "", "runtime transport: p2p, rma, collective or auto (default: $SPMD_TRANSPORT, else auto; see dagmpi/mux)")
	flag.StringVar(&f.Trace, "trace", "", "write a Chrome trace to this file (rank r > 0 writes FILE.r)")
	flag.BoolVar(&f.JSON, "json", false, "print one JSON object on rank 0")
	flag.BoolVar(&f.ScaLAPACK, "scalapack", false, "also run the ScaLAPACK routine on the same matrix (needs -tags scalapack)")
	flag.IntVar(&f.ScaNB, "scalapack-nb", 0, "ScaLAPACK block size (0: -nb)")
	flag.IntVar(&f.Workers, "workers", 0, "worker goroutines per rank (0: GOMAXPROCS, the cores this rank may use)")
	flag.BoolVar(&f.Pruned, "pruned", false, "each rank submits only the tasks it takes part in (dagmpi.WithPruned; not with -transport collective)")
	flag.DurationVar(&f.Watchdog, "watchdog", exrun.DefaultWatchdog(), "end the job with a report of what is pending when nothing progresses for this long (dagmpi.WithWatchdog; 0: never; default $SPMD_WATCHDOG, else 5m)")
	flag.DurationVar(&f.Spin, "spin", 500*time.Microsecond, "progress goroutine's hot polling after a completion (dagmpi.WithSpin)")
	flag.DurationVar(&f.Poll, "poll", time.Millisecond, "progress goroutine's sleep between polls once it dozes (dagmpi.WithPollInterval)")
	flag.BoolVar(&f.Check, "check", true, "compute the scaled residual")
	flag.BoolVar(&f.DGEMM, "dgemm", true, "measure the DGEMM yardstick (kernels.MeasureDGEMM on every rank at once, summed)")
	flag.Parse()
	if _, err := run(routine, f, body, selErr); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", routine, err)
		if mpi.Initialized() && !mpi.Finalized() {
			mpi.Abort(mpi.World(), 1, err.Error())
		}
		os.Exit(1)
	}
	mpi.Finalize()
}

func run(routine string, f *Flags, body func(*Env) (*Result, error), selErr error) (*Report, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if err := mpi.Init(); err != nil {
		return nil, err
	}
	world := mpi.World()
	e := &Env{Flags: f, Comm: world, Rank: world.Rank(), Size: world.Size()}
	if err := e.grid(); err != nil {
		return nil, err
	}
	if selErr != nil && e.Rank == 0 {
		fmt.Fprintln(os.Stderr, "warning: kernels.SelectCore:", selErr)
	}
	if f.ScaLAPACK && !scalapackBuilt {
		return nil, errors.New("-scalapack: built without -tags scalapack (go build -tags scalapack)")
	}
	var dg float64
	if f.DGEMM {
		var err error
		if dg, err = MeasureDGEMM(world); err != nil {
			return nil, err
		}
	}
	opts := []dagmpi.Option{dagmpi.WithObserver(&e.busy), dagmpi.WithSpin(f.Spin), dagmpi.WithPollInterval(f.Poll), dagmpi.WithWatchdog(f.Watchdog)}
	if f.Workers > 0 {
		opts = append(opts, dagmpi.WithWorkers(f.Workers))
	}
	if f.Pruned {
		opts = append(opts, dagmpi.WithPruned())
	}
	if f.Trace != "" {
		e.trace = dagmpi.NewChromeTrace()
		opts[0] = dagmpi.WithObserver(multi{&e.busy, e.trace})
	}
	rt, err := mux.NewRuntime(world, f.Transport, opts...)
	if err != nil {
		return nil, err
	}
	e.RT = rt
	res, err := body(e)
	if err != nil {
		return nil, err
	}
	if err := rt.Close(); err != nil {
		return nil, err
	}
	if e.trace != nil {
		if err := e.writeTrace(); err != nil {
			return nil, err
		}
	}
	gp, gq := e.Dist.Grid()
	rep := &Report{
		Routine: res.Routine, N: f.N, NB: f.NB, P: gp, Q: gq, GridOrder: f.GridOrder,
		Ranks: e.Size, Workers: rt.Workers(), Transport: f.Transport, Pruned: f.Pruned, Seconds: res.Seconds,
		Kernels: kernels.CoreName(), DGEMMGFlops: dg, Split: e.split, Extra: res.Extra, notes: res.Notes,
	}
	if rep.Routine == "" {
		rep.Routine = routine
	}
	if a, ok := rt.Transport().(*mux.Auto); ok {
		rep.Routes = a.Describe()
	}
	if res.Seconds > 0 {
		rep.GFlops = res.Flops / res.Seconds / 1e9
	}
	if dg > 0 {
		rep.DGEMMFraction = rep.GFlops / dg
	}
	if res.Checked {
		r := res.Residual
		rep.Residual = &r
	}
	if res.ScaLAPACKSeconds > 0 {
		rep.ScaLAPACKSeconds = res.ScaLAPACKSeconds
		rep.ScaLAPACKGFlops = res.Flops / res.ScaLAPACKSeconds / 1e9
		rep.ScaLAPACKNB = res.ScaLAPACKNB
		rep.Ratio = rep.GFlops / rep.ScaLAPACKGFlops
		if res.Checked {
			r := res.ScaLAPACKResid
			rep.ScaLAPACKResid = &r
		}
	}
	if e.Rank == 0 {
		if f.JSON {
			// One line, with "<" and ">" as they are (the routes).
			enc := json.NewEncoder(os.Stdout)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(rep); err != nil {
				return nil, err
			}
		} else {
			rep.print()
		}
	}
	return rep, nil
}

func (f *Flags) validate() error {
	switch {
	case f.N < 1:
		return fmt.Errorf("-n %d: must be at least 1", f.N)
	case f.NB < 1:
		return fmt.Errorf("-nb %d: must be at least 1", f.NB)
	case f.P < 0 || f.Q < 0:
		return fmt.Errorf("-p %d -q %d: must not be negative", f.P, f.Q)
	case f.ScaNB < 0:
		return fmt.Errorf("-scalapack-nb %d: must not be negative", f.ScaNB)
	case f.Workers < 0:
		return fmt.Errorf("-workers %d: must not be negative", f.Workers)
	case f.Watchdog < 0:
		return fmt.Errorf("-watchdog %v: must not be negative", f.Watchdog)
	}
	if f.Transport == "" {
		f.Transport = os.Getenv(mux.EnvTransport)
		if f.Transport == "" {
			f.Transport = "auto"
		}
	}
	switch f.Transport {
	case "p2p", "rma", "collective", "auto":
	default:
		return fmt.Errorf("-transport %q: want p2p, rma, collective or auto", f.Transport)
	}
	if f.Pruned && f.Transport == "collective" {
		return errors.New("-pruned with -transport collective: broadcast trees need every rank to see every reader of a version; use p2p, rma or auto")
	}
	switch f.GridOrder {
	case "row", "col":
	default:
		return fmt.Errorf("-grid-order %q: want row or col", f.GridOrder)
	}
	return nil
}

// Layers, when a program points it at a flag of its own before Main, splits
// the ranks into that many layers of P x Q ranks (the 3D layouts of 2.5D
// algorithms): P*Q*layers must then equal the number of ranks, and Dist is
// the grid of one layer. Nil or less than 1 means one layer.
var Layers *int

// grid picks P x Q from the flags and the number of ranks.
func (e *Env) grid() error {
	f, n := e.Flags, e.Size
	if Layers != nil && *Layers > 1 {
		if n%*Layers != 0 {
			return fmt.Errorf("%d layers do not divide the %d ranks", *Layers, n)
		}
		n /= *Layers
	}
	p, q := f.P, f.Q
	switch {
	case p == 0 && q == 0:
		p = 1
		for d := 1; d*d <= n; d++ {
			if n%d == 0 {
				p = d
			}
		}
		q = n / p
	case p == 0:
		p = n / q
	case q == 0:
		q = n / p
	}
	if p < 1 || q < 1 || p*q != n {
		return fmt.Errorf("grid -p %d -q %d: P*Q must equal the %d ranks", f.P, f.Q, n)
	}
	e.Order = blockcyclic.RowMajor
	if f.GridOrder == "col" {
		e.Order = blockcyclic.ColMajor
	}
	d, err := blockcyclic.NewCyclic2D(p, q, e.Order, 0, 0)
	if err != nil {
		return err
	}
	e.Dist = d
	return nil
}

// MeasureDGEMM runs kernels.MeasureDGEMM (n = 2048, 1s) on every rank of
// comm at once and returns the sum of the rates on every rank: the aggregate
// DGEMM rate of the job's cores, the yardstick of the distributed routines.
// It is collective.
func MeasureDGEMM(comm *mpi.Comm) (float64, error) {
	if err := mpi.Barrier(comm); err != nil {
		return 0, err
	}
	r := []float64{kernels.MeasureDGEMM(2048, time.Second)}
	sum := []float64{0}
	if err := mpi.Allreduce(comm, r, sum, mpi.Sum); err != nil {
		return 0, err
	}
	return sum[0], nil
}

// Time runs f (which submits and waits for a routine's tasks) between two
// barriers and returns the slowest rank's wall time in seconds. It records
// the time split of the run (see Split) for the report; the last call wins.
// It is collective.
func (e *Env) Time(f func() error) (float64, error) {
	if err := e.RT.Wait(); err != nil {
		return 0, err
	}
	if err := mpi.Barrier(e.Comm); err != nil {
		return 0, err
	}
	s0 := e.RT.Stats()
	b0 := e.busy.total()
	t0 := time.Now()
	ferr := f()
	if ferr == nil {
		ferr = e.RT.Wait()
	}
	dt := time.Since(t0).Seconds()
	s1 := e.RT.Stats()
	b1 := e.busy.total()
	// Every rank joins the reduction even on error, so none waits.
	bad := 0.0
	if ferr != nil {
		bad = 1
	}
	w := float64(e.RT.Workers())
	busy := (b1 - b0).Seconds() / w
	// Idle is the rest of the wall time of the mean worker (the Stats idle
	// counter is credited when a worker wakes, so it may include time before
	// the run).
	loc := []float64{dt, bad, busy, (s1.Comm - s0.Comm).Seconds(), max(dt-busy, 0), float64(s1.BytesSent - s0.BytesSent)}
	// Every rank has the same transport, hence the same paths: append them
	// in name order.
	paths := slices.Sorted(maps.Keys(s1.ByTransport))
	for _, p := range paths {
		loc = append(loc, float64(s1.ByTransport[p].Bytes-s0.ByTransport[p].Bytes))
	}
	mx := make([]float64, len(loc))
	sum := make([]float64, len(loc))
	if err := mpi.Allreduce(e.Comm, loc, mx, mpi.Max); err != nil {
		return 0, err
	}
	if err := mpi.Allreduce(e.Comm, loc, sum, mpi.Sum); err != nil {
		return 0, err
	}
	if ferr != nil {
		return 0, ferr
	}
	if mx[1] > 0 {
		return 0, errors.New("the routine failed on another rank")
	}
	n := float64(e.Size)
	e.split = Split{Compute: sum[2] / n, Comm: sum[3] / n, Idle: sum[4] / n, BytesSent: int64(sum[5]), BytesSentMaxRank: int64(mx[5])}
	e.split.BytesByTransport = make(map[string]int64, len(paths))
	for i, p := range paths {
		e.split.BytesByTransport[p] = int64(sum[6+i])
	}
	return mx[0], nil
}

// Barrier is mpi.Barrier on the job's communicator.
func (e *Env) Barrier() error { return mpi.Barrier(e.Comm) }

// MaxFloat returns the largest of v over the ranks (collective).
func (e *Env) MaxFloat(v float64) (float64, error) {
	out := []float64{0}
	err := mpi.Allreduce(e.Comm, []float64{v}, out, mpi.Max)
	return out[0], err
}

func (e *Env) writeTrace() error {
	name := e.Flags.Trace
	if e.Rank > 0 {
		name = fmt.Sprintf("%s.%d", name, e.Rank)
	}
	fh, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("-trace: rank %d: %w", e.Rank, err)
	}
	if _, err := e.trace.WriteTo(fh); err != nil {
		fh.Close()
		return fmt.Errorf("-trace: rank %d: writing %s: %w", e.Rank, name, err)
	}
	return fh.Close()
}

func (r *Report) print() {
	fmt.Printf("%s: N=%d NB=%d on %d ranks (grid %d x %d, %s-major, %d workers per rank, transport %s)\n",
		r.Routine, r.N, r.NB, r.Ranks, r.P, r.Q, r.GridOrder, r.Workers, r.Transport)
	fmt.Printf("OpenBLAS kernels: %s\n", r.Kernels)
	if r.Routes != "" {
		fmt.Printf("auto transport routes: %s\n", r.Routes)
	}
	fmt.Printf("spmd:      %8.3f s  %8.1f GFLOP/s", r.Seconds, r.GFlops)
	if r.Residual != nil {
		fmt.Printf("  residual %.3g", *r.Residual)
	}
	fmt.Println()
	fmt.Printf("time split per worker (mean over ranks): compute %.3f s, idle %.3f s; communication in flight %.3f s\n",
		r.Split.Compute, r.Split.Idle, r.Split.Comm)
	if r.ScaLAPACKGFlops > 0 {
		fmt.Printf("ScaLAPACK: %8.3f s  %8.1f GFLOP/s (NB=%d)", r.ScaLAPACKSeconds, r.ScaLAPACKGFlops, r.ScaLAPACKNB)
		if r.ScaLAPACKResid != nil {
			fmt.Printf("  residual %.3g", *r.ScaLAPACKResid)
		}
		fmt.Printf("\nratio spmd / ScaLAPACK: %.2f\n", r.Ratio)
	}
	if r.DGEMMGFlops > 0 {
		fmt.Printf("DGEMM yardstick (all ranks): %.1f GFLOP/s; spmd reaches %.0f%% of it\n", r.DGEMMGFlops, 100*r.DGEMMFraction)
	}
	for _, l := range r.notes {
		fmt.Println(l)
	}
}

// busyObserver sums the time of task bodies.
type busyObserver struct {
	mu   sync.Mutex
	busy time.Duration
}

func (b *busyObserver) Task(e dagmpi.TaskEvent) {
	b.mu.Lock()
	b.busy += e.End.Sub(e.Start)
	b.mu.Unlock()
}

func (b *busyObserver) Transfer(dagmpi.TransferEvent) {}

func (b *busyObserver) total() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.busy
}

type multi []dagmpi.Observer

func (m multi) Task(e dagmpi.TaskEvent) {
	for _, o := range m {
		o.Task(e)
	}
}

func (m multi) Transfer(e dagmpi.TransferEvent) {
	for _, o := range m {
		o.Transfer(e)
	}
}
