package dagmpi

import (
	"sync/atomic"
	"time"
)

// Transport moves bytes between the ranks of one job for one Runtime. The
// Runtime decides what moves where and when; a Transport only carries
// messages, in the manner of MPI nonblocking point-to-point calls on a
// communicator that belongs to the Runtime alone.
//
// # Threading
//
// The Runtime calls Send, Recv, Progress and Close from a single goroutine
// (its progress goroutine), never concurrently, so an implementation over an
// MPI library initialised with MPI_THREAD_FUNNELED or SERIALIZED only needs
// that goroutine locked to its OS thread. Rank, Size and TagBound may be
// called from any goroutine and must not change.
//
// # Buffers
//
// Send and Recv lend buf to the Transport from the call until Progress
// reports the operation's id complete. During that time the Runtime does not
// touch the bytes of a send buffer, and does not read or write a receive
// buffer. After the completion is reported the Transport must not touch buf
// again. A Transport never retains buf after completion and never allocates
// it: the Runtime owns every buffer.
//
// # Matching
//
// Messages match as in MPI: a receive from (src, tag) matches a message sent
// by src to this rank with that tag. Messages between one pair of ranks with
// the same tag are matched in the order they were sent, and receives posted
// for the same (src, tag) are satisfied in the order they were posted (MPI's
// non-overtaking rule). Nothing else is ordered: messages with different
// tags may arrive and complete in any order, and send completion says
// nothing about when the receiver matched the message. The Runtime relies on
// exactly these rules and no others.
//
// # Errors
//
// A receive that matches a message from another rank longer than buf
// completes with a non-nil Completion.Err (the Runtime never sends to its own
// rank); a shorter message completes with Completion.Bytes set to
// its length (the Runtime treats a short message as an error too). An error
// returned by a method means the Transport can no longer be used; the
// Runtime then ends the job.
type Transport interface {
	// Rank returns this rank's number in [0, Size()).
	Rank() int
	// Size returns the number of ranks.
	Size() int
	// TagBound returns the exclusive upper bound of the tags the Runtime may
	// use: every tag passed to Send and Recv lies in [0, TagBound()). For
	// MPI this is MPI_TAG_UB+1 of the Runtime's communicator (at least
	// 32768). It must be at least 2.
	TagBound() int
	// Send posts a nonblocking send of buf to rank dst with tag. id names
	// the operation in the Completion that Progress reports exactly once.
	Send(buf []byte, dst, tag int, id uint64) error
	// Recv posts a nonblocking receive of a message from rank src with tag
	// into buf. id names the operation in the Completion that Progress
	// reports exactly once.
	Recv(buf []byte, src, tag int, id uint64) error
	// Progress advances communication without blocking for long and
	// appends the operations that completed since the last call to done,
	// returning the extended slice.
	Progress(done []Completion) ([]Completion, error)
	// Close releases the Transport. The Runtime calls it only when it owns
	// the Transport (see WithOwnedTransport) and no operation is pending.
	Close() error
}

// Completion reports one finished Send or Recv.
type Completion struct {
	ID    uint64 // the id given to Send or Recv
	Bytes int    // bytes received (receives) or sent (sends)
	Err   error  // non-nil if the operation failed (for example truncation)
	// Path is the index, in the Transport's PathNamer.Paths, of the
	// underlying path that carried the message; 0 for a Transport that is
	// not a PathNamer. The Runtime counts finished sends per path
	// (Stats.ByTransport).
	Path uint8
	// Buf is set for a receive posted with Lender.RecvLoan: the message's
	// bytes (Bytes of them). When Loaned is false Buf is a buffer the
	// Transport allocated and gave up; when it is true Buf is the
	// Transport's own memory (a window slot), lent to the Runtime until it
	// calls Lender.Return with it.
	Buf    []byte
	Loaned bool
}

// Lender is an optional Transport capability for a Transport whose
// messages land in memory of its own (the one-sided transport puts them
// into slots of the receiver's MPI window): instead of copying a message
// out into a buffer the Runtime allocated, it lends the Runtime the memory
// it arrived in, so a receive costs no copy. The Runtime reads (and may
// write) the lent bytes like any replica and gives them back when the
// replica dies: when the version is superseded and its last local user is
// done, or at Close. A Transport bounds what it lends (a loan holds a window
// slot) and copies instead when the bound is reached, so loans the Runtime
// keeps for long never stop messages from flowing.
type Lender interface {
	// Lends reports whether a receive of n bytes may be lent: the Runtime
	// then posts it with RecvLoan instead of Recv. It must give the same
	// answer for the same n during the Transport's life.
	Lends(n int) bool
	// RecvLoan posts a receive of a message of at most n bytes from rank
	// src with tag, as Recv does but without a buffer: its Completion
	// carries the bytes in Buf (see Completion.Loaned). A longer message
	// completes with an error.
	RecvLoan(n, src, tag int, id uint64) error
	// Return gives back the Buf of a Completion with Loaned set, once the
	// Runtime no longer touches its bytes. It may be called from any
	// goroutine, also after Close (then it does nothing). A buf the
	// Transport never lent makes it panic; a loan given back twice is
	// reported as an error, at once or by the next Progress.
	Return(buf []byte)
}

// MaxPaths is the most paths a PathNamer may name.
const MaxPaths = 8

// PathNamer is an optional Transport capability: it names the underlying
// paths a Transport moves messages on (the auto transport of dagmpi/mux:
// "p2p" and "rma"; a transport with one path names that one), and the
// Transport sets Completion.Path to the index of the path each finished
// operation took. The Runtime calls Paths once, in New, and counts the sends
// and bytes of each path into Stats.ByTransport with no map lookup or
// allocation per message. Without the capability every send counts under
// the name "unnamed".
type PathNamer interface {
	// Paths returns the names of the paths, 1 to MaxPaths distinct
	// non-empty names, fixed for the Transport's life. The Runtime keeps
	// the slice.
	Paths() []string
}

// Waker is an optional Transport capability: Wake returns a channel that
// receives a value whenever a call to Progress may report something new
// (messages arrived, the job was aborted). With it the Runtime's progress
// goroutine sleeps until woken; without it, it polls Progress with a backoff
// that starts at a few microseconds and grows to WithPollInterval while
// operations are pending, and sleeps without polling when none are.
type Waker interface {
	Wake() <-chan struct{}
}

// Spinner is an optional Transport capability: Spin is Progress that, when
// nothing has completed, keeps polling for up to d, or until attn holds a
// nonzero value, before it returns. While the Runtime spins (WithSpin) and
// no ready task waits for a worker, it calls Spin instead of Progress, with
// slices of a few microseconds, and stores a nonzero value in attn whenever
// it has something to post (a worker finished a producer, the submitter
// added a transfer, the job is ending). An MPI transport polls inside the
// library in one cgo call (mpi.TestsomeFor), which sees a message as soon as
// it arrives instead of paying a Go round trip per poll.
//
// Spin keeps the calling goroutine's thread busy for up to d: it must not
// block longer, and it must return early once attn is nonzero (checking it
// at least once per poll of the library).
type Spinner interface {
	Spin(done []Completion, d time.Duration, attn *atomic.Uint32) ([]Completion, error)
}

// TreeAdvisor is an optional Transport capability: a Transport that has
// measured whether a version read on several ranks moves faster along a
// broadcast tree than from its location to each reader (the auto transport
// of dagmpi/mux times both at start-up when the job has 4 ranks or more)
// advises the Runtime, which then uses trees (WithBroadcastTreeFrom) unless
// an option chose (WithBroadcastTree, WithBroadcastTreeFrom,
// WithoutBroadcastTree) or submission is pruned (WithPruned: trees need
// every rank to see every reader, so the advice is not taken). Every rank's
// Transport must give the same advice.
type TreeAdvisor interface {
	// BroadcastTreeFrom returns the smallest version, in bytes, that
	// should move along a tree, and false when trees never paid.
	BroadcastTreeFrom() (minBytes int, ok bool)
}

// ReduceOp names the reduction of Controller.AllreduceUint64.
type ReduceOp int

const (
	OpSum ReduceOp = iota // wrapping sum
	OpMax
	OpMin
)

// Controller is an optional Transport capability the Runtime uses to check
// that all ranks submitted the same graph and to end the whole job on
// failure. Without it the consistency check is skipped and a failure ends
// only the local Runtime (its Wait returns the error).
type Controller interface {
	// AllreduceUint64 is collective: every rank calls it with slices of the
	// same length, and on return out[i] is the reduction of in[i] over all
	// ranks; in and out must not share memory (MPI forbids it). It is
	// called from the progress goroutine like Send and Recv, only when this
	// rank has no Send or Recv pending.
	AllreduceUint64(op ReduceOp, in, out []uint64) error
	// Abort ends the job on every rank, with msg reported to the user (an
	// MPI transport prints it and calls MPI_Abort). It may be called from
	// any goroutine, concurrently with the other methods. If it returns,
	// the other ranks' Transports must fail their pending and future calls
	// with an error wrapping ErrAborted that carries msg.
	Abort(msg string)
}
