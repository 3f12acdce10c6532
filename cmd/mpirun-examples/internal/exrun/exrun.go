// Package exrun is what the workload examples (train, moe) share to start
// a job: the flags -workers, -transport, -json and -trace, the runtime over
// the chosen transport with the overlap recorder (and a Chrome trace)
// observing it, and writing the trace at the end.
package exrun

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/overlap"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/mux"
	"github.com/spmd-go/spmd/mpi"
)

// Flags are the common flags.
type Flags struct {
	Workers   int
	Watchdog  time.Duration
	Transport string
	JSON      bool
	Trace     string
}

// DefaultWatchdog is the examples' default -watchdog: $SPMD_WATCHDOG
// (dagmpi.EnvWatchdog) when it holds a valid duration, else 5 minutes. (An
// invalid value is reported by dagmpi.New.)
func DefaultWatchdog() time.Duration {
	if d, set, err := dagmpi.WatchdogFromEnv(); err == nil && set {
		return d
	}
	return 5 * time.Minute
}

// Register defines the common flags on fs.
func Register(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.IntVar(&f.Workers, "workers", 0, "worker goroutines per rank (0: GOMAXPROCS)")
	fs.DurationVar(&f.Watchdog, "watchdog", DefaultWatchdog(), "end the job with a report of what is pending when nothing progresses for this long (dagmpi.WithWatchdog; 0: never; default $SPMD_WATCHDOG, else 5m)")
	fs.StringVar(&f.Transport, "transport", "", "runtime transport: p2p, rma, collective or auto (default: $SPMD_TRANSPORT, else auto; see dagmpi/mux)")
	fs.BoolVar(&f.JSON, "json", false, "print one JSON object on rank 0 instead of text")
	fs.StringVar(&f.Trace, "trace", "", "write a Chrome/Perfetto trace per rank to PATH.<rank>.json")
	return f
}

// Trace is the Chrome trace of one rank, or nil without -trace.
type Trace struct {
	chrome *dagmpi.ChromeTrace
	path   string
}

// NewRuntime creates this rank's runtime over the flags' transport (it is
// collective over world), observed by rec and, with -trace, by a Chrome
// trace that Trace.Write saves.
func (f *Flags) NewRuntime(world *mpi.Comm, rec *overlap.Recorder) (*dagmpi.Runtime, *Trace, error) {
	var tr *Trace
	if f.Trace != "" {
		tr = &Trace{chrome: dagmpi.NewChromeTrace(), path: fmt.Sprintf("%s.%d.json", f.Trace, world.Rank())}
		rec.Next = tr.chrome
	}
	opts := []dagmpi.Option{dagmpi.WithObserver(rec), dagmpi.WithWatchdog(f.Watchdog)}
	if f.Workers > 0 {
		opts = append(opts, dagmpi.WithWorkers(f.Workers))
	}
	rt, err := mux.NewRuntime(world, f.Transport, opts...)
	return rt, tr, err
}

// Write saves the trace to PATH.<rank>.json; it does nothing on a nil
// Trace.
func (t *Trace) Write() error {
	if t == nil {
		return nil
	}
	fh, err := os.Create(t.path)
	if err != nil {
		return err
	}
	if _, err := t.chrome.WriteTo(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
