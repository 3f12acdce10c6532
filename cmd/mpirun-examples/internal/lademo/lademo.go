// Package lademo is what the linear-algebra examples (cholesky, gemm) share:
// their common flags, the job's set-up (OpenBLAS kernels, MPI, the process
// grid, the runtime and its trace), the DGEMM yardstick, and the report: a
// few lines for people and, with -json, one JSON object on rank 0.
package lademo

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/mux"
	"github.com/spmd-go/spmd/mpi"
)

// Flags are the common flags.
type Flags struct {
	N, NB     int
	P, Q      int
	Order     string
	Transport string
	Trace     string
	JSON      bool
	ScaLAPACK bool
	SLNB      int
	Check     bool
	Workers   int
	DGEMM     bool
}

// Register defines the common flags on fs with the given defaults for -n
// and -nb.
func Register(fs *flag.FlagSet, n, nb int) *Flags {
	f := &Flags{}
	fs.IntVar(&f.N, "n", n, "matrix order")
	fs.IntVar(&f.NB, "nb", nb, "tile size")
	fs.IntVar(&f.P, "p", 0, "process grid rows (0: chosen from the rank count, as square as possible)")
	fs.IntVar(&f.Q, "q", 0, "process grid columns (0: ranks / p)")
	fs.StringVar(&f.Order, "grid-order", "row", "rank order on the grid: row or col (BLACS_GRIDINIT 'R' or 'C')")
	fs.StringVar(&f.Transport, "transport", "", "runtime transport: p2p, rma, collective or auto (default: $SPMD_TRANSPORT, else auto)")
	fs.StringVar(&f.Trace, "trace", "", "write a Chrome/Perfetto trace to this file (rank r writes FILE.r when ranks > 1)")
	fs.BoolVar(&f.JSON, "json", false, "print one JSON object with the results on rank 0")
	fs.BoolVar(&f.ScaLAPACK, "scalapack", false, "also run ScaLAPACK on the same matrix and grid (needs a build with -tags scalapack)")
	fs.IntVar(&f.SLNB, "scalapack-nb", 0, "ScaLAPACK's block size (0: the same as -nb)")
	fs.BoolVar(&f.Check, "check", true, "check the result (scaled residual)")
	fs.IntVar(&f.Workers, "workers", 0, "workers per rank (0: the CPUs this rank may use)")
	fs.BoolVar(&f.DGEMM, "dgemm", true, "measure the DGEMM yardstick (every rank at once, summed)")
	return f
}

// Env is a running job.
type Env struct {
	F          *Flags
	Rank, Size int
	World      *mpi.Comm
	Grid       bc.Cyclic2D
	RT         *dagmpi.Runtime
	trace      *dagmpi.ChromeTrace
	Transport  string
	Kernels    string
	DGEMM      float64 // GFLOP/s, all ranks together
}

// Setup starts the job: kernels.SelectCore (which may re-execute the
// program, so call Setup first thing in main), MPI, the grid, the DGEMM
// yardstick and the runtime.
func Setup(f *Flags) (*Env, error) {
	if err := kernels.SelectCore(); err != nil {
		return nil, err
	}
	if err := mpi.Init(); err != nil {
		return nil, err
	}
	w := mpi.World()
	e := &Env{F: f, Rank: w.Rank(), Size: w.Size(), World: w, Kernels: kernels.CoreName()}
	if f.N < 0 || f.NB < 1 {
		return e, fmt.Errorf("-n %d -nb %d: want n >= 0 and nb >= 1", f.N, f.NB)
	}
	p, q := f.P, f.Q
	switch {
	case p == 0 && q == 0:
		dims, err := mpi.DimsCreate(e.Size, []int{0, 0})
		if err != nil {
			return e, err
		}
		// ScaLAPACK's usual choice: the shorter side first.
		p, q = min(dims[0], dims[1]), max(dims[0], dims[1])
	case p == 0:
		p = e.Size / q
	case q == 0:
		q = e.Size / p
	}
	if p < 1 || q < 1 || p*q != e.Size {
		return e, fmt.Errorf("-p %d -q %d: the grid must have exactly the %d ranks of the job", f.P, f.Q, e.Size)
	}
	order := bc.RowMajor
	switch f.Order {
	case "row", "r", "R":
	case "col", "c", "C":
		order = bc.ColMajor
	default:
		return e, fmt.Errorf("-grid-order %q: want row or col", f.Order)
	}
	g, err := bc.NewCyclic2D(p, q, order, 0, 0)
	if err != nil {
		return e, err
	}
	e.Grid = g
	if f.DGEMM {
		// Every rank at once, as the algorithms run: the sum is what the
		// machine's cores reach together.
		if err := mpi.Barrier(w); err != nil {
			return e, err
		}
		mine := []float64{kernels.MeasureDGEMM(1024, 500*time.Millisecond)}
		all := make([]float64, 1)
		if err := mpi.Allreduce(w, mine, all, mpi.Sum); err != nil {
			return e, err
		}
		e.DGEMM = all[0]
	}
	opts := []dagmpi.Option{dagmpi.WithWatchdog(10 * time.Minute)}
	if f.Workers > 0 {
		opts = append(opts, dagmpi.WithWorkers(f.Workers))
	}
	if f.Trace != "" {
		e.trace = dagmpi.NewChromeTrace()
		opts = append(opts, dagmpi.WithObserver(e.trace))
	}
	e.Transport = f.Transport
	if e.Transport == "" {
		e.Transport = os.Getenv(mux.EnvTransport)
		if e.Transport == "" {
			e.Transport = "auto"
		}
	}
	if e.RT, err = mux.NewRuntime(w, e.Transport, opts...); err != nil {
		return e, err
	}
	return e, nil
}

// Result is what an example reports.
type Result struct {
	Routine   string  `json:"routine"`
	N         int     `json:"n"`
	NB        int     `json:"nb"`
	P         int     `json:"p"`
	Q         int     `json:"q"`
	Ranks     int     `json:"ranks"`
	Workers   int     `json:"workers"`
	Transport string  `json:"transport"`
	Seconds   float64 `json:"seconds"`
	GFLOPS    float64 `json:"gflops"`
	Residual  float64 `json:"residual"`
	Tolerance float64 `json:"tolerance,omitempty"`
	Kernels   string  `json:"kernels"`
	DGEMM     float64 `json:"dgemm_gflops"`
	OfDGEMM   float64 `json:"of_dgemm,omitempty"`
	// Time split, seconds per rank averaged over ranks: workers busy,
	// transfers in flight, workers idle.
	Compute   float64 `json:"compute_s"`
	Comm      float64 `json:"comm_s"`
	Idle      float64 `json:"idle_s"`
	BytesSent int64   `json:"bytes_sent"`
	// With -scalapack.
	ScaLAPACKGFLOPS  float64 `json:"scalapack_gflops,omitempty"`
	ScaLAPACKSeconds float64 `json:"scalapack_seconds,omitempty"`
	ScaLAPACKNB      int     `json:"scalapack_nb,omitempty"`
	ScaLAPACKResid   float64 `json:"scalapack_residual,omitempty"`
	Ratio            float64 `json:"ratio,omitempty"`
}

// Measure fills the rank-averaged time split and the bytes sent, from
// the runtime's counters before (s0) and after the timed part. Collective.
func (e *Env) Measure(r *Result, s0 dagmpi.Stats, wall time.Duration) error {
	s := e.RT.Stats()
	busy := float64(e.RT.Workers())*wall.Seconds() - (s.Idle - s0.Idle).Seconds()
	in := []float64{max(0, busy) / float64(e.RT.Workers()), (s.Comm - s0.Comm).Seconds(), (s.Idle - s0.Idle).Seconds() / float64(e.RT.Workers()), float64(s.BytesSent - s0.BytesSent)}
	out := make([]float64, len(in))
	if err := mpi.Allreduce(e.World, in, out, mpi.Sum); err != nil {
		return err
	}
	r.Compute, r.Comm, r.Idle = out[0]/float64(e.Size), out[1]/float64(e.Size), out[2]/float64(e.Size)
	r.BytesSent = int64(out[3])
	return nil
}

// Fill sets the fields every result shares.
func (e *Env) Fill(r *Result) {
	r.N, r.NB, r.Ranks, r.Kernels, r.DGEMM = e.F.N, e.F.NB, e.Size, e.Kernels, e.DGEMM
	r.P, r.Q = e.Grid.Grid()
	r.Workers = e.RT.Workers()
	r.Transport = e.Transport
	if r.DGEMM > 0 {
		r.OfDGEMM = r.GFLOPS / r.DGEMM
	}
	if r.ScaLAPACKGFLOPS > 0 {
		r.Ratio = r.GFLOPS / r.ScaLAPACKGFLOPS
	}
}

// Report prints r on rank 0.
func (e *Env) Report(r Result) {
	if e.Rank != 0 {
		return
	}
	if e.F.JSON {
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
		return
	}
	fmt.Printf("%s: n = %d, nb = %d, %d x %d grid, %d ranks x %d workers, transport %s, OpenBLAS %s\n",
		r.Routine, r.N, r.NB, r.P, r.Q, r.Ranks, r.Workers, r.Transport, r.Kernels)
	fmt.Printf("  time %.3f s, %.1f GFLOP/s", r.Seconds, r.GFLOPS)
	if r.DGEMM > 0 {
		fmt.Printf(" (%.0f%% of the %.1f GFLOP/s DGEMM rate of all ranks together)", 100*r.OfDGEMM, r.DGEMM)
	}
	fmt.Println()
	fmt.Printf("  per rank: compute %.3f s, transfers in flight %.3f s, idle %.3f s; %.1f MB sent in all\n", r.Compute, r.Comm, r.Idle, float64(r.BytesSent)/1e6)
	if e.F.Check {
		fmt.Printf("  scaled residual %.3g (tolerance %.0f)\n", r.Residual, r.Tolerance)
	}
	if r.ScaLAPACKGFLOPS > 0 {
		fmt.Printf("  ScaLAPACK (nb = %d): %.3f s, %.1f GFLOP/s; ours / ScaLAPACK = %.2f\n", r.ScaLAPACKNB, r.ScaLAPACKSeconds, r.ScaLAPACKGFLOPS, r.Ratio)
	}
}

// WriteTrace writes the trace, if asked for: FILE on one rank, FILE.r on
// rank r of several.
func (e *Env) WriteTrace() error {
	if e.trace == nil {
		return nil
	}
	name := e.F.Trace
	if e.Size > 1 {
		name = fmt.Sprintf("%s.%d", name, e.Rank)
	}
	fh, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := e.trace.WriteTo(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// Close shuts the runtime and MPI down.
func (e *Env) Close() error {
	var err error
	if e.RT != nil {
		err = e.RT.Close()
	}
	return errors.Join(err, mpi.Finalize())
}

// Fail prints err (naming the rank) and ends the job.
func Fail(e *Env, err error) {
	rank := -1
	if e != nil {
		rank = e.Rank
	}
	fmt.Fprintf(os.Stderr, "rank %d: %v\n", rank, err)
	if mpi.Initialized() && !mpi.Finalized() {
		mpi.Abort(mpi.World(), 1, err.Error())
	}
	os.Exit(1)
}
