package dagmpi

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Observer receives an event for every task this rank runs and every
// transfer it finishes. Methods are called from worker goroutines and the
// progress goroutine concurrently, and must be quick. A Runtime without an
// observer builds no event and reads no clock for them.
type Observer interface {
	Task(TaskEvent)
	Transfer(TransferEvent)
}

// TaskEvent describes one task run.
type TaskEvent struct {
	Rank, Worker int
	Seq          uint64 // submission index
	Name         string
	Start, End   time.Time
	Inline       bool // run on the progress goroutine (see WithInline); Worker is then Workers()
}

// TransferEvent describes one finished send or receive. The pair (sender,
// receiver, Seq) names the transfer identically on both sides.
type TransferEvent struct {
	Rank, Peer int
	Send       bool
	Data       int    // Data.ID
	Seq        uint64 // sequence number of the transfer between the pair
	Bytes      int
	Task       uint64 // submission index of the task the transfer feeds
	Start, End time.Time
}

// Stats are a rank's counters.
type Stats struct {
	Tasks     int64         // task bodies run
	Sends     int64         // sends finished
	Recvs     int64         // receives finished
	RecvsLent int64         // of those, received in memory the Transport lent (Lender): no copy
	BytesSent int64         // bytes of finished sends
	BytesRecv int64         // bytes of finished receives
	Idle      time.Duration // total time workers spent parked without work
	Comm      time.Duration // time with at least one transfer in the Transport
	// ByTransport splits the finished sends by the path that carried
	// them, keyed by the Transport's path names (see PathNamer: "p2p",
	// "rma", "inproc"; "unnamed" for a Transport that names none), with
	// every named path present, even at zero. With WithBroadcastTree the
	// sends of a copy this rank received and forwards along a broadcast
	// tree count under TreePath instead, whatever path carried them. The
	// entries' Sends and Bytes sum to Sends and BytesSent.
	ByTransport map[string]TransportBytes
}

// TreePath is the Stats.ByTransport key of the broadcast-tree forwards
// (WithBroadcastTree): sends of a version from a rank that received it
// rather than produced it.
const TreePath = "tree"

// unnamedPath is the Stats.ByTransport key of a Transport that is not a
// PathNamer.
const unnamedPath = "unnamed"

// TransportBytes counts the finished sends of one path.
type TransportBytes struct {
	Sends int64 `json:"sends"`
	Bytes int64 `json:"bytes"`
}

// pathCounter counts the sends of one path.
type pathCounter struct {
	sends, bytes int64
}

// counters are guarded by Runtime.mu, except comm, which the progress
// goroutine adds to without it. They are plain integers, not atomics,
// because the path of a remote dependency updates several of them: under
// the lock it takes anyway they cost nothing.
type counters struct {
	tasks, sends, recvs, recvsLent, bytesSent, bytesRecv int64
	idle                                                 time.Duration
	comm                                                 atomic.Int64

	// paths[i] counts path i of the Transport (names[i]); paths[MaxPaths]
	// the broadcast-tree forwards when tree is set.
	paths [MaxPaths + 1]pathCounter
	names []string
	tree  bool
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Tasks:       c.tasks,
		Sends:       c.sends,
		Recvs:       c.recvs,
		RecvsLent:   c.recvsLent,
		BytesSent:   c.bytesSent,
		BytesRecv:   c.bytesRecv,
		Idle:        c.idle,
		Comm:        time.Duration(c.comm.Load()),
		ByTransport: make(map[string]TransportBytes, len(c.names)+1),
	}
	for i, name := range c.names {
		s.ByTransport[name] = TransportBytes{Sends: c.paths[i].sends, Bytes: c.paths[i].bytes}
	}
	if c.tree {
		p := &c.paths[MaxPaths]
		s.ByTransport[TreePath] = TransportBytes{Sends: p.sends, Bytes: p.bytes}
	}
	return s
}

// pathNames returns tr's path names (see PathNamer), checked.
func pathNames(tr Transport, tree bool) ([]string, error) {
	pn, ok := tr.(PathNamer)
	if !ok {
		return []string{unnamedPath}, nil
	}
	names := pn.Paths()
	if len(names) < 1 || len(names) > MaxPaths {
		return nil, fmt.Errorf("dagmpi: New: transport %T names %d paths, want 1 to %d", tr, len(names), MaxPaths)
	}
	for i, n := range names {
		if n == "" || (tree && n == TreePath) {
			return nil, fmt.Errorf("dagmpi: New: transport %T names path %d %q (empty, or %q with WithBroadcastTree)", tr, i, n, TreePath)
		}
		for _, m := range names[:i] {
			if m == n {
				return nil, fmt.Errorf("dagmpi: New: transport %T names path %q twice", tr, n)
			}
		}
	}
	return names, nil
}
