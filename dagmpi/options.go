package dagmpi

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

// EnvWatchdog names the environment variable that sets the watchdog of
// every Runtime that does not set one with WithWatchdog (a Go duration such
// as "10m"), so that a batch job can bound a hang without a code change.
const EnvWatchdog = "SPMD_WATCHDOG"

// WatchdogFromEnv returns the watchdog $SPMD_WATCHDOG sets and whether it
// is set; a value that is not a non-negative Go duration is an error naming
// the variable (New returns it).
func WatchdogFromEnv() (d time.Duration, set bool, err error) {
	v := os.Getenv(EnvWatchdog)
	if v == "" {
		return 0, false, nil
	}
	d, err = time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("%s=%q: want a non-negative Go duration such as 10m", EnvWatchdog, v)
	}
	return d, true, nil
}

type config struct {
	workers      int
	watchdog     time.Duration
	check        bool
	maxPending   int
	maxBytes     int64
	maxRecvs     int
	poll         time.Duration
	spin         time.Duration
	inline       time.Duration
	tagBound     int
	ownTransport bool
	pruned       bool
	tree         bool // broadcast trees for versions of at least treeMin bytes
	treeMin      int
	treeSet      bool // an option chose (WithBroadcastTree...): a TreeAdvisor is not asked
	lockThread   bool
	noLoans      bool
	obs          Observer
	graph        *Graph
}

func defaultConfig() config {
	return config{
		workers:    runtime.GOMAXPROCS(0),
		watchdog:   0,
		check:      true,
		maxPending: 1 << 20,
		maxBytes:   1 << 30,
		maxRecvs:   32,
		poll:       time.Millisecond,
		spin:       500 * time.Microsecond,
		inline:     50 * time.Microsecond,
	}
}

// Option configures New.
type Option func(*config) error

// WithWorkers sets the number of worker goroutines that run this rank's
// tasks. The default is runtime.GOMAXPROCS(0): the cores this process may
// use, which under mpirun with binding is the cores given to the rank.
func WithWorkers(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("dagmpi: WithWorkers(%d): need at least 1 worker", n)
		}
		c.workers = n
		return nil
	}
}

// WithWatchdog ends the job when this rank has work pending and nothing
// (no task, no transfer) completes for d. Zero disables it; the default is
// $SPMD_WATCHDOG (EnvWatchdog) when set, else zero. A task body that runs
// longer than d with other work pending on its rank counts as no progress.
func WithWatchdog(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("dagmpi: WithWatchdog(%v): negative duration", d)
		}
		c.watchdog = d
		return nil
	}
}

// WithCheck turns the consistency check at Wait on or off (default on when
// the Transport is a Controller). The check compares a hash of the
// submission stream across ranks, and verifies that every inferred send has
// a matching inferred receive. When the streams differ, the error names the
// first task where they diverge; for that each rank keeps the hash of the
// stream every 64 tasks (thinned out on long runs, at most 256 values) and
// the hash, name and rank of its last 256 tasks. Under WithPruned the
// streams differ by design: the hash is neither kept nor compared.
func WithCheck(on bool) Option {
	return func(c *config) error { c.check = on; return nil }
}

// WithoutLoans makes the Runtime copy every received message into a
// buffer of its own even when its Transport is a Lender (the one-sided
// transport, or auto where it routes a size one-sided), which by default
// lends the window memory a message arrived in instead. For measuring what
// the loans save.
func WithoutLoans() Option {
	return func(c *config) error { c.noLoans = true; return nil }
}

// WithMaxPending bounds the operations (tasks and transfers of this rank)
// submitted but not finished; Submit blocks while the bound is reached.
// Ranks that take no part in a task do not count it.
func WithMaxPending(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("dagmpi: WithMaxPending(%d): need at least 1", n)
		}
		c.maxPending = n
		return nil
	}
}

// WithMaxBytesInFlight bounds the bytes of posted but unfinished receives.
// One receive is always allowed, whatever its size.
func WithMaxBytesInFlight(n int64) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("dagmpi: WithMaxBytesInFlight(%d): need at least 1 byte", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithMaxRecvsPosted bounds the receives posted to the Transport at once
// (default 32). Receives are posted in submission order, so the bound
// costs no parallelism that the graph could use soon, and it keeps each
// Progress call (MPI_Testsome over every request in flight) short.
func WithMaxRecvsPosted(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("dagmpi: WithMaxRecvsPosted(%d): need at least 1", n)
		}
		c.maxRecvs = n
		return nil
	}
}

// WithSpin sets how long the progress goroutine keeps polling the Transport
// without sleeping after the last completion or post, while transfers are
// pending (default 500µs). Longer spins cut the latency of remote
// dependencies and cost CPU time while waiting for remote data; 0 never
// spins. With nothing pending the goroutine always sleeps.
func WithSpin(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return fmt.Errorf("dagmpi: WithSpin(%v): negative duration", d)
		}
		c.spin = d
		return nil
	}
}

// WithInline sets when a task whose last input has just arrived runs on
// the progress goroutine itself instead of a worker: when it is the only
// ready task and no worker is running one, which saves two goroutine
// hand-offs per remote dependency (progress to worker, worker back to
// progress for the task's sends). While such a body runs, this rank polls
// no transfer, so when one takes longer than max, inline runs pause for
// 100 times that long (then the next eligible task is tried again). The
// default max is 50µs; 0 turns inline runs off.
func WithInline(max time.Duration) Option {
	return func(c *config) error {
		if max < 0 {
			return fmt.Errorf("dagmpi: WithInline(%v): negative duration", max)
		}
		c.inline = max
		return nil
	}
}

// WithPollInterval sets the sleep between two polls of a Transport that is
// not a Waker, once the spin (WithSpin) is over and transfers are still
// pending (default 1ms: Go timers do not sleep much less than that anyway).
func WithPollInterval(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("dagmpi: WithPollInterval(%v): need a positive duration", d)
		}
		c.poll = d
		return nil
	}
}

// WithTagBound lowers the tag bound below the Transport's TagBound (for
// tests of tag reuse; 2 is the smallest allowed).
func WithTagBound(n int) Option {
	return func(c *config) error {
		if n < 2 {
			return fmt.Errorf("dagmpi: WithTagBound(%d): need at least 2", n)
		}
		c.tagBound = n
		return nil
	}
}

// WithOwnedTransport makes Close close the Transport.
func WithOwnedTransport() Option {
	return func(c *config) error { c.ownTransport = true; return nil }
}

// WithLockedThread locks the progress goroutine, which makes every call
// into the Transport (so every MPI call of the runtime), to one OS thread
// for the Runtime's life (runtime.LockOSThread): for MPI libraries or
// network layers that keep per-thread state and want one thread to drive
// them. It does not make MPI_THREAD_FUNNELED enough (that thread is not the
// process's main thread); the transport's thread-level check still
// applies. Off by default: a locked goroutine's yields become hand-offs
// between OS threads (bench/results/dag.md measures the chain latency with
// and without it).
func WithLockedThread() Option {
	return func(c *config) error { c.lockThread = true; return nil }
}

// WithPruned declares that ranks submit pruned streams (see
// Data.ProducedOn): each rank submits only the tasks it takes part in, so
// the submission hash is not compared; the check of matching transfers
// still runs.
func WithPruned() Option {
	return func(c *config) error { c.pruned = true; return nil }
}

// WithBroadcastTree moves a version that several ranks read along a
// binomial tree instead of from its location to each reader: the readers of
// a version, in the order their first reading task was submitted, are nodes
// 1, 2, 3, ... of the tree and the location is node 0; node k receives from
// node k minus its highest power of two (1 and 2 from 0, 3 from 1, 4 from 0,
// 5 from 1, 6 from 2, 7 from 3, ...). A node forwards its received copy,
// which it keeps until the Data is written again, so a version read by k
// ranks leaves its location about log2(k+1) times instead of k, and every
// rank derives the tree from the submission stream with no extra message.
// It needs full submission (not WithPruned): every rank must see every
// reader. Without this option (or WithBroadcastTreeFrom, WithoutBroadcastTree)
// a Transport that is a TreeAdvisor decides.
func WithBroadcastTree() Option {
	return func(c *config) error { c.tree, c.treeMin, c.treeSet = true, 0, true; return nil }
}

// WithBroadcastTreeFrom is WithBroadcastTree for the versions of Data of at
// least minBytes bytes; smaller ones move from their location to each
// reader. Every rank must pass the same minBytes.
func WithBroadcastTreeFrom(minBytes int) Option {
	return func(c *config) error {
		if minBytes < 0 {
			return fmt.Errorf("dagmpi: WithBroadcastTreeFrom(%d): negative size", minBytes)
		}
		c.tree, c.treeMin, c.treeSet = true, minBytes, true
		return nil
	}
}

// WithoutBroadcastTree moves every version from its location to each
// reader, whatever a TreeAdvisor transport advises.
func WithoutBroadcastTree() Option {
	return func(c *config) error { c.tree, c.treeMin, c.treeSet = false, 0, true; return nil }
}

// WithObserver sends task and transfer events to o. Without it no event is
// built and no clock is read on the task path.
func WithObserver(o Observer) Option {
	return func(c *config) error { c.obs = o; return nil }
}

// WithGraph records every submitted task and its data dependencies into g
// (for Graph.WriteDOT). Meant for small graphs: it keeps every task.
func WithGraph(g *Graph) Option {
	return func(c *config) error {
		if g == nil {
			return fmt.Errorf("dagmpi: WithGraph(nil)")
		}
		c.graph = g
		return nil
	}
}
