package collective

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/spmd-go/spmd/mpi"
)

// Errors for bad input; the errors returned wrap one of these, so
// errors.Is(err, ErrMembers) works, and their text names what was wrong.
var (
	// ErrMembers: the member list is empty, has a duplicate or a rank
	// outside the communicator.
	ErrMembers = errors.New("collective: bad member list")
	// ErrRoot: the root index is outside the member list.
	ErrRoot = errors.New("collective: bad root")
	// ErrLength: buffer lengths, counts or displacements do not fit, or a
	// message of another length than expected arrived (buffer lengths differ
	// across members).
	ErrLength = errors.New("collective: bad length")
	// ErrChunk: a negative chunk size.
	ErrChunk = errors.New("collective: bad chunk size")
	// ErrAlgorithm: the algorithm does not implement the operation.
	ErrAlgorithm = errors.New("collective: algorithm not available")
	// ErrOp: the reduction operation is not defined for the element type.
	ErrOp = errors.New("collective: operation not defined for the type")
	// ErrTags: a bad tag range, or an operation whose tag is still used by
	// an operation in flight on this rank (too many in flight for the range).
	ErrTags = errors.New("collective: tag range")
	// ErrClosed: the Context was closed.
	ErrClosed = errors.New("collective: context closed")
)

// Context issues collective operations over sets of ranks of one
// communicator and numbers them so that they never cross-match (see the
// package documentation, "Tags"). It also caches the sub-communicators of
// the Native algorithm. A Context and its operations are not safe for
// concurrent use: drive them from one goroutine (the progress loop).
type Context struct {
	comm   *mpi.Comm
	base   int
	count  int
	next   uint64
	live   map[int]uint64 // tag -> seq of the operation in flight using it
	subs   map[string]*mpi.Comm
	closed bool
	free   [][]uint64 // scratch buffers of finished operations
}

// maxFree bounds the scratch buffers a Context keeps.
const maxFree = 16

// getScratch returns a buffer of at least words 8-byte words (element
// types hold no pointers, so any of them may live in it).
func (x *Context) getScratch(words int) []uint64 {
	best := -1
	for i, b := range x.free {
		if cap(b) >= words && (best < 0 || cap(b) < cap(x.free[best])) {
			best = i
		}
	}
	if best < 0 {
		return make([]uint64, words, max(words, 1))
	}
	b := x.free[best]
	x.free[best] = x.free[len(x.free)-1]
	x.free = x.free[:len(x.free)-1]
	return b[:words]
}

func (x *Context) putScratch(b []uint64) {
	if len(x.free) < maxFree {
		x.free = append(x.free, b[:cap(b)])
		return
	}
	// Replace the smallest kept buffer if b is larger.
	small := 0
	for i, f := range x.free {
		if cap(f) < cap(x.free[small]) {
			small = i
		}
	}
	if cap(b) > cap(x.free[small]) {
		x.free[small] = b[:cap(b)]
	}
}

// Option configures a Context.
type Option func(*Context) error

// Tags makes the Context use tags base..base+count-1 of the communicator
// (default: every tag, 0..TagUB). An operation with sequence number s uses
// tag base + s mod count, so count bounds the operations in flight at once.
func Tags(base, count int) Option {
	return func(x *Context) error {
		if base < 0 || count < 1 || base > x.comm.TagUB()-count+1 {
			return fmt.Errorf("%w: tags %d..%d are not within 0..%d (MPI_TAG_UB of %v)", ErrTags, base, base+count-1, x.comm.TagUB(), x.comm)
		}
		x.base, x.count = base, count
		return nil
	}
}

// NewContext returns a Context over c. It is local: no communication.
func NewContext(c *mpi.Comm, opts ...Option) (*Context, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil communicator", ErrMembers)
	}
	x := &Context{comm: c, count: c.TagUB() + 1, live: map[int]uint64{}, subs: map[string]*mpi.Comm{}}
	for _, o := range opts {
		if err := o(x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// Comm returns the communicator of x.
func (x *Context) Comm() *mpi.Comm { return x.comm }

// InFlight returns the number of operations started on this rank and not
// yet finished.
func (x *Context) InFlight() int { return len(x.live) }

// Close frees the sub-communicators cached for the Native algorithm. It is
// collective over each cached member set (MPI_Comm_free, in the same order
// on every rank); operations must be finished first. Later operations
// return ErrClosed.
func (x *Context) Close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	// Free in key order, the same on every rank, so that ranks sharing
	// several sub-communicators free them in the same order.
	keys := make([]string, 0, len(x.subs))
	for k := range x.subs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var first error
	for _, k := range keys {
		if err := x.subs[k].Free(); err != nil && first == nil {
			first = err
		}
		delete(x.subs, k)
	}
	return first
}

// Spec says over which ranks and how an operation runs. The zero Spec is
// the whole communicator in rank order, root index 0, the Default
// algorithm, the default chunk and the Context's own sequence numbering.
type Spec struct {
	// Members are the communicator ranks taking part, in the order that
	// defines their index (trees and rings are built over indices). nil
	// means every rank of the communicator, in rank order.
	Members []int
	// Root is the index in Members of the root of Bcast and Reduce (not a
	// communicator rank; see IndexOf).
	Root int
	// Alg is the algorithm; Default picks one by size.
	Alg Algorithm
	// Chunk is the number of elements per message of the pipelined
	// algorithms (Chain); 0 means about 64 KiB.
	Chunk int
	// Seq, when not zero, is the operation's sequence number, which every
	// member must give alike; zero takes the Context's next number (see the
	// package documentation).
	Seq uint64
}

// IndexOf returns the index of communicator rank r in members (nil meaning
// every rank of a communicator of size n), for Spec.Root.
func IndexOf(members []int, n, r int) (int, error) {
	if members == nil {
		if r < 0 || r >= n {
			return 0, fmt.Errorf("%w: rank %d is not in a communicator of size %d", ErrRoot, r, n)
		}
		return r, nil
	}
	for i, m := range members {
		if m == r {
			return i, nil
		}
	}
	return 0, fmt.Errorf("%w: rank %d is not a member of %v", ErrRoot, r, members)
}

// group is the checked member set of one operation.
type group struct {
	ranks []int // communicator ranks by index
	me    int   // this rank's index, -1 when not a member
	root  int
}

func (g *group) size() int { return len(g.ranks) }

// key names the member set for the sub-communicator cache.
func (g *group) key() string {
	var b strings.Builder
	for i, r := range g.ranks {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r))
	}
	return b.String()
}

// checkGroup validates s's members and root for call.
func (x *Context) checkGroup(call string, s *Spec, rooted bool) (group, error) {
	n, me := x.comm.Size(), x.comm.Rank()
	g := group{me: -1}
	if s.Members == nil {
		g.ranks = make([]int, n)
		for i := range g.ranks {
			g.ranks[i] = i
		}
		g.me = me
	} else {
		if len(s.Members) == 0 {
			return g, fmt.Errorf("%w: %s: empty member list", ErrMembers, call)
		}
		seen := make(map[int]int, len(s.Members))
		for i, r := range s.Members {
			if r < 0 || r >= n {
				return g, fmt.Errorf("%w: %s: members[%d] = %d is outside %v", ErrMembers, call, i, r, x.comm)
			}
			if j, ok := seen[r]; ok {
				return g, fmt.Errorf("%w: %s: rank %d appears twice (members[%d] and members[%d])", ErrMembers, call, r, j, i)
			}
			seen[r] = i
			if r == me {
				g.me = i
			}
		}
		g.ranks = s.Members
	}
	if rooted && (s.Root < 0 || s.Root >= len(g.ranks)) {
		return g, fmt.Errorf("%w: %s: root index %d outside the %d members", ErrRoot, call, s.Root, len(g.ranks))
	}
	if s.Chunk < 0 {
		return g, fmt.Errorf("%w: %s: chunk of %d elements", ErrChunk, call, s.Chunk)
	}
	g.root = s.Root
	return g, nil
}

// seq draws the operation's sequence number. It is called once per call,
// first thing, on every rank that makes the call, member or not.
func (x *Context) seq(s *Spec) uint64 {
	if s.Seq != 0 {
		return s.Seq
	}
	x.next++
	return x.next
}

// tagOf is the tag of sequence number q.
func (x *Context) tagOf(q uint64) int { return x.base + int(q%uint64(x.count)) }

// acquire marks tag as used by seq until release.
func (x *Context) acquire(call string, seq uint64, tag int) error {
	if x.closed {
		return fmt.Errorf("%w: %s", ErrClosed, call)
	}
	if old, ok := x.live[tag]; ok {
		return fmt.Errorf("%w: %s: sequence %d maps to tag %d, still used by sequence %d in flight: more than %d operations in flight (widen Tags)", ErrTags, call, seq, tag, old, x.count)
	}
	x.live[tag] = seq
	return nil
}

func (x *Context) release(tag int) { delete(x.live, tag) }

// sub returns the cached sub-communicator of g's members (creating it,
// collectively over the members, on first use).
func (x *Context) sub(g *group) (*mpi.Comm, error) {
	k := g.key()
	if c, ok := x.subs[k]; ok {
		return c, nil
	}
	wg, err := x.comm.Group()
	if err != nil {
		return nil, err
	}
	defer wg.Free()
	sg, err := wg.Incl(g.ranks)
	if err != nil {
		return nil, err
	}
	defer sg.Free()
	c, err := x.comm.CreateGroup(sg, x.base)
	if err != nil {
		return nil, err
	}
	x.subs[k] = c
	return c, nil
}

// Prepare creates the sub-communicator the Native algorithm uses for
// members (nil: the whole communicator), if it is not cached yet. It is
// collective over the members (MPI_Comm_create_group, blocking); the first
// Native operation on a member set does it otherwise. Non-members return nil
// at once.
func (x *Context) Prepare(members []int) error {
	g, err := x.checkGroup("Prepare", &Spec{Members: members}, false)
	if err != nil {
		return err
	}
	if g.me < 0 {
		return nil
	}
	_, err = x.sub(&g)
	return err
}
