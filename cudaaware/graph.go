package cudaaware

import (
	"errors"

	"github.com/spmd-go/spmd/mpi"
)

// Graph runs device tasks on one device over a pool of streams. A task
// declares the device memory it reads and writes; Submit gives it a stream
// and makes that stream wait, with events, for the earlier tasks it
// conflicts with: a read waits for the last write (RAW), a write waits for
// every read since the last write (WAR) and for the last write (WAW).
// Independent tasks go to different streams (round robin), so their work
// overlaps. The host never waits in Submit: it only enqueues. Wait is the
// one host synchronisation.
//
// Dependencies are tracked per allocation (*Mem): two buffers sliced from
// one allocation conflict even if they do not overlap. A Graph is used by
// one goroutine. Each task records one event, kept until the next Wait.
//
// Graph is for code that uses streams without dagmpi. dagmpi schedules its
// own device tasks (dagmpi.OnDevice on a DagmpiDevice) by the same rules,
// across ranks and together with host tasks.
type Graph struct {
	dev     Device
	streams []Stream
	next    int
	mem     map[*Mem]*memDeps
	events  []Event
}

type memDeps struct {
	write Event   // last writer's event, nil if none since the last Wait
	reads []Event // readers since the last write
}

// Access is a task's use of device memory (Reads, Writes).
type Access struct {
	mem   *Mem
	write bool
}

// Reads declares that a task reads b.
func Reads[T mpi.Elem](b Buffer[T]) Access { return Access{mem: b.mem} }

// Writes declares that a task writes b (a read-write counts as a write).
func Writes[T mpi.Elem](b Buffer[T]) Access { return Access{mem: b.mem, write: true} }

// NewGraph makes a graph over n streams of d (n >= 1).
func NewGraph(d Device, n int) (*Graph, error) {
	if d == nil || n < 1 {
		return nil, errf("NewGraph", "need a device and at least one stream, got %v and %d", d, n)
	}
	g := &Graph{dev: d, mem: map[*Mem]*memDeps{}}
	for range n {
		s, err := d.NewStream()
		if err != nil {
			g.Close()
			return nil, err
		}
		g.streams = append(g.streams, s)
	}
	return g, nil
}

// Streams returns the number of streams.
func (g *Graph) Streams() int { return len(g.streams) }

// Submit enqueues a task: body is called at once, on the calling
// goroutine, with the task's stream, and must only enqueue work on it (and
// not synchronise it). The stream first waits for the events of the
// earlier conflicting tasks; after body, an event is recorded for later
// tasks to wait on. An error from body is returned and the task counts as
// not submitted, but work it enqueued still runs.
func (g *Graph) Submit(body func(s Stream) error, acc ...Access) error {
	if g.streams == nil {
		return errf("Graph.Submit", "graph is closed")
	}
	for _, a := range acc {
		if a.mem == nil {
			return errf("Graph.Submit", "access to a zero Buffer")
		}
		if a.mem.dev != g.dev {
			return errf("Graph.Submit", "buffer on %s, graph on %s", a.mem.dev, g.dev)
		}
	}
	s := g.streams[g.next]
	g.next = (g.next + 1) % len(g.streams)
	for _, a := range acc {
		d := g.mem[a.mem]
		if d == nil {
			continue
		}
		if d.write != nil {
			if err := s.Wait(d.write); err != nil {
				return err
			}
		}
		if a.write {
			for _, r := range d.reads {
				if err := s.Wait(r); err != nil {
					return err
				}
			}
		}
	}
	if err := body(s); err != nil {
		return err
	}
	e, err := g.dev.NewEvent()
	if err != nil {
		return err
	}
	g.events = append(g.events, e)
	if err := s.Record(e); err != nil {
		return err
	}
	for _, a := range acc {
		d := g.mem[a.mem]
		if d == nil {
			d = &memDeps{}
			g.mem[a.mem] = d
		}
		if a.write {
			d.write, d.reads = e, d.reads[:0]
		} else {
			d.reads = append(d.reads, e)
		}
	}
	return nil
}

// Wait blocks until every submitted task has finished and releases their
// events.
func (g *Graph) Wait() error {
	var errs []error
	for _, s := range g.streams {
		errs = append(errs, s.Synchronize())
	}
	for _, e := range g.events {
		errs = append(errs, e.Close())
	}
	g.events = g.events[:0]
	clear(g.mem)
	return errors.Join(errs...)
}

// Close waits for the tasks and releases the streams.
func (g *Graph) Close() error {
	errs := []error{g.Wait()}
	for _, s := range g.streams {
		errs = append(errs, s.Close())
	}
	g.streams = nil
	return errors.Join(errs...)
}
