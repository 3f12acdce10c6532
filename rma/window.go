package rma

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// Flavor says how a window's memory was obtained.
type Flavor int

// Window flavors.
const (
	// FlavorAllocate is memory allocated by MPI (MPI_Win_allocate).
	FlavorAllocate Flavor = iota
	// FlavorCreate is Go memory the program handed to MPI (MPI_Win_create).
	FlavorCreate
	// FlavorShared is shared memory within a node (MPI_Win_allocate_shared).
	FlavorShared
	// FlavorDynamic has memory attached and detached at will
	// (MPI_Win_create_dynamic).
	FlavorDynamic
)

func (f Flavor) String() string {
	switch f {
	case FlavorAllocate:
		return "MPI_Win_allocate"
	case FlavorCreate:
		return "MPI_Win_create"
	case FlavorShared:
		return "MPI_Win_allocate_shared"
	case FlavorDynamic:
		return "MPI_Win_create_dynamic"
	}
	return fmt.Sprintf("Flavor(%d)", int(f))
}

// epoch is the access epoch a window is in, as this process sees it.
type epoch uint8

const (
	epochNone    epoch = iota
	epochFence         // between two fences (ops allowed to every rank)
	epochStart         // between Start and Complete (ops to the start group)
	epochLock          // one or more ranks locked with Lock
	epochLockAll       // between LockAll and UnlockAll
)

// lockState is the lock this process holds on one target rank.
type lockState uint8

const (
	unlocked lockState = iota
	lockShared
	lockExclusive
)

// Window is an MPI window whose elements have type T: every operation on it
// moves T values, so an operation of the wrong element type does not
// compile. Displacements are counted in elements of T from the start of the
// target's window memory, except on dynamic windows, where a displacement
// is a target address (see Window.Attach and Addr.At).
//
// A Window is not safe for concurrent use: one goroutine at a time may call
// its methods (the state it tracks is not locked). See the package
// documentation for epochs, collectives and buffer ownership.
type Window[T mpi.Elem] struct {
	h      uintptr
	id     uint64
	flavor Flavor
	comm   *mpi.Comm
	rank   int
	size   int
	dt     uintptr // MPI datatype of T
	esize  int     // bytes per element

	sizes []int // elements of each rank's window; nil when not known (dynamic)
	local []T   // this rank's window memory (not for dynamic windows)

	memPin   runtime.Pinner  // Create's buffer and attached buffers
	attached map[uintptr]int // dynamic: base address -> elements

	opPin   runtime.Pinner // origin and result buffers of pending operations
	lastPin unsafe.Pointer
	npins   int

	access    epoch
	fenceUsed bool        // an operation was issued since the last fence
	group     []bool      // epochStart: the ranks of the start group
	groupList []int       // the same, for messages
	locks     []lockState // epochLock: per target rank
	nlocks    int
	posted    bool // an exposure epoch opened by Post is in progress
	freed     bool
}

var winIDs atomic.Uint64

// windows keeps every window reachable until it is freed, so a window the
// program drops without Free keeps its pinned memory pinned (MPI may still
// use it) instead of tripping the runtime's check for leaked pins.
var windows = struct {
	sync.Mutex
	m map[uint64]any
}{m: map[uint64]any{}}

func (w *Window[T]) String() string {
	if w == nil {
		return "rma.Window(nil)"
	}
	var z T
	return fmt.Sprintf("window %d (%s of %T over %v)", w.id, w.flavor, z, w.comm)
}

// Flavor returns how w's memory was obtained (local).
func (w *Window[T]) Flavor() Flavor { return w.flavor }

// Comm returns the communicator w was created over (local).
func (w *Window[T]) Comm() *mpi.Comm { return w.comm }

// Local returns this rank's window memory as a slice (local). For
// FlavorAllocate and FlavorShared the memory belongs to MPI and the slice
// is invalid after Free; for FlavorCreate it is the buffer given to Create;
// for FlavorDynamic it is nil. Local loads and stores race with other
// ranks' operations unless the program synchronises (Fence, Wait, Lock on
// itself, Sync), as MPI's memory model requires.
func (w *Window[T]) Local() []T { return w.local }

// Len returns the number of elements of rank's window (local), or -1 when
// it is not known (dynamic windows).
func (w *Window[T]) Len(rank int) int {
	if w.sizes == nil || rank < 0 || rank >= len(w.sizes) {
		return -1
	}
	return w.sizes[rank]
}

func newWindow[T mpi.Elem](comm *mpi.Comm, flavor Flavor) *Window[T] {
	w := &Window[T]{
		id:     winIDs.Add(1),
		flavor: flavor,
		comm:   comm,
		rank:   comm.Rank(),
		size:   comm.Size(),
		dt:     mpi.RawDatatype[T](),
		esize:  mpi.ElemSize[T](),
	}
	return w
}

func (w *Window[T]) register() {
	windows.Lock()
	windows.m[w.id] = w
	windows.Unlock()
}

// checkCreate validates the arguments of a window constructor.
func checkCreate(call string, comm *mpi.Comm, n, esize int) error {
	if err := mpi.CheckLive(call); err != nil {
		return err
	}
	if comm == nil {
		return rmaErr(mpi.ErrComm, call, "nil communicator")
	}
	if n < 0 || int64(n) > math.MaxInt64/int64(esize) {
		return rmaErr(mpi.ErrSize, call, "window of %d elements", n)
	}
	return nil
}

// gatherSizes collects every rank's element count (collective).
func (w *Window[T]) gatherSizes(n int) error {
	all := make([]int64, w.size)
	if err := mpi.Allgather(w.comm, []int64{int64(n)}, all); err != nil {
		return err
	}
	w.sizes = make([]int, w.size)
	for i, v := range all {
		w.sizes[i] = int(v)
	}
	return nil
}

// Allocate creates a window of n elements of MPI-allocated memory on this
// rank (MPI_Win_allocate; collective over comm, n may differ between
// ranks). It is the preferred flavor: MPI can register its own memory with
// the network and use its fastest paths.
func Allocate[T mpi.Elem](comm *mpi.Comm, n int) (*Window[T], error) {
	return allocate[T](comm, n, FlavorAllocate)
}

// AllocateShared creates a window of n elements on this rank in memory
// shared by every rank of comm (MPI_Win_allocate_shared; collective). comm
// must only hold ranks of one node, for example a communicator from
// (*mpi.Comm).SplitShared. SharedQuery gives direct access to the other
// ranks' segments.
func AllocateShared[T mpi.Elem](comm *mpi.Comm, n int) (*Window[T], error) {
	return allocate[T](comm, n, FlavorShared)
}

// allocAlign is the granularity of the memory requested from MPI for
// allocated windows. MPICH 4.0.2 (ch4) returns a wrong base address on ranks
// above 0 when a window's size is not a multiple of 16 bytes (the memory it
// writes for other ranks' operations starts 8 bytes later than the pointer
// it returns; a C program shows the same), so sizes are rounded up; the
// padding is invisible, since Go checks ranges against the requested sizes.
const allocAlign = 64

func allocBytes(n, esize int) int64 {
	b := int64(n) * int64(esize)
	return (b + allocAlign - 1) / allocAlign * allocAlign
}

func allocate[T mpi.Elem](comm *mpi.Comm, n int, flavor Flavor) (*Window[T], error) {
	call := "MPI_Win_allocate"
	if flavor == FlavorShared {
		call = "MPI_Win_allocate_shared"
	}
	if err := checkCreate(call, comm, n, mpi.ElemSize[T]()); err != nil {
		return nil, err
	}
	w := newWindow[T](comm, flavor)
	h, base, rc := lowAllocate(flavor == FlavorShared, allocBytes(n, w.esize), w.esize, comm.Raw())
	if rc != 0 {
		return nil, mpiErr(rc, call)
	}
	w.h = h
	if n > 0 && base != nil {
		w.local = unsafe.Slice((*T)(base), n)
	} else {
		w.local = []T{}
	}
	if err := w.gatherSizes(n); err != nil {
		lowFree(h)
		return nil, err
	}
	w.register()
	return w, nil
}

// Create creates a window over buf, Go memory of this rank (MPI_Win_create;
// collective over comm, len(buf) may differ between ranks). buf stays
// pinned until Free: the program may read and write it between
// synchronisations, but must not let it go before freeing the window.
// Open MPI moves data over such windows much more slowly than over
// Allocate's; prefer Allocate.
func Create[T mpi.Elem](comm *mpi.Comm, buf []T) (*Window[T], error) {
	const call = "MPI_Win_create"
	if err := checkCreate(call, comm, len(buf), mpi.ElemSize[T]()); err != nil {
		return nil, err
	}
	w := newWindow[T](comm, FlavorCreate)
	var base uintptr
	if len(buf) > 0 {
		p := unsafe.Pointer(unsafe.SliceData(buf))
		w.memPin.Pin(p)
		base = uintptr(p)
	}
	h, rc := lowCreate(base, int64(len(buf))*int64(w.esize), w.esize, comm.Raw())
	if rc != 0 {
		w.memPin.Unpin()
		return nil, createErr(rc, call, comm)
	}
	w.h = h
	w.local = buf
	if err := w.gatherSizes(len(buf)); err != nil {
		lowFree(h)
		w.memPin.Unpin()
		return nil, err
	}
	w.register()
	return w, nil
}

// CreateDynamic creates a window with no memory (MPI_Win_create_dynamic;
// collective over comm). Each rank attaches Go buffers with Attach and
// tells the others their addresses (for example with mpi.Allgather); the
// displacement of an operation on a dynamic window is such an address
// (Addr.At). Ranges are not checked in Go, since no rank knows what the
// others attached.
func CreateDynamic[T mpi.Elem](comm *mpi.Comm) (*Window[T], error) {
	const call = "MPI_Win_create_dynamic"
	if err := checkCreate(call, comm, 0, mpi.ElemSize[T]()); err != nil {
		return nil, err
	}
	w := newWindow[T](comm, FlavorDynamic)
	h, rc := lowCreateDynamic(comm.Raw())
	if rc != 0 {
		return nil, createErr(rc, call, comm)
	}
	w.h = h
	w.attached = map[uintptr]int{}
	w.register()
	return w, nil
}

// createErr explains the failure of a window creation over Go memory where
// the library's message does not.
func createErr(rc int, call string, comm *mpi.Comm) error {
	err := mpiErr(rc, call)
	if e, ok := err.(*mpi.Error); ok && mpi.Implementation == "openmpi" && errors.Is(err, mpi.ErrWin) {
		e.Msg += " (Open MPI found no one-sided component for this window: in a one-process job osc/rdma has no" +
			" BTL to use and osc/pt2pt refuses MPI_THREAD_MULTIPLE; Allocate works, or set OMPI_MCA_osc=ucx)"
	}
	return err
}

// Addr is the address of memory attached to a dynamic window, as the
// targets' displacements need it (MPI_Get_address).
type Addr int64

// At returns the displacement of element i of the buffer attached at a,
// for a window of element type T.
func At[T mpi.Elem](a Addr, i int) int { return int(a) + i*mpi.ElemSize[T]() }

// Attach exposes buf, Go memory of this rank, through dynamic window w
// (MPI_Win_attach; local) and returns its address for other ranks to use
// as a displacement. buf stays pinned until Detach or Free.
func (w *Window[T]) Attach(buf []T) (Addr, error) {
	const call = "MPI_Win_attach"
	if err := w.checkLive(call); err != nil {
		return 0, err
	}
	if w.flavor != FlavorDynamic {
		return 0, rmaErr(mpi.ErrWin, call, "%v is not a dynamic window", w)
	}
	if len(buf) == 0 {
		return 0, rmaErr(mpi.ErrSize, call, "cannot attach an empty buffer to %v", w)
	}
	p := unsafe.Pointer(unsafe.SliceData(buf))
	if _, ok := w.attached[uintptr(p)]; ok {
		return 0, rmaErr(mpi.ErrArg, call, "buffer at %p is already attached to %v", p, w)
	}
	w.memPin.Pin(p)
	a, rc := lowAttach(w.h, uintptr(p), int64(len(buf))*int64(w.esize))
	if rc != 0 {
		return 0, mpiErr(rc, call)
	}
	w.attached[uintptr(p)] = len(buf)
	return Addr(a), nil
}

// Detach withdraws buf, attached earlier with Attach, from dynamic window w
// (MPI_Win_detach; local). Its pin is released when no attached buffer is
// left, or at Free.
func (w *Window[T]) Detach(buf []T) error {
	const call = "MPI_Win_detach"
	if err := w.checkLive(call); err != nil {
		return err
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	if _, ok := w.attached[p]; !ok || len(buf) == 0 {
		return rmaErr(mpi.ErrArg, call, "buffer is not attached to %v", w)
	}
	if rc := lowDetach(w.h, p); rc != 0 {
		return mpiErr(rc, call)
	}
	delete(w.attached, p)
	if len(w.attached) == 0 {
		w.memPin.Unpin()
	}
	return nil
}

// SharedQuery returns rank's segment of shared window w as a slice this
// process may load from and store to directly (MPI_Win_shared_query;
// local). Direct accesses follow MPI's memory model: order them with other
// ranks' by Sync together with a process synchronisation (a barrier, a
// message), or by Fence or Lock/Unlock epochs.
func (w *Window[T]) SharedQuery(rank int) ([]T, error) {
	const call = "MPI_Win_shared_query"
	if err := w.checkLive(call); err != nil {
		return nil, err
	}
	if w.flavor != FlavorShared {
		return nil, rmaErr(mpi.ErrWin, call, "%v is not a shared-memory window", w)
	}
	if err := w.checkRank(call, rank); err != nil {
		return nil, err
	}
	bytes, _, base, rc := lowSharedQuery(w.h, rank)
	if rc != 0 {
		return nil, mpiErr(rc, call)
	}
	n := min(int(bytes/int64(w.esize)), w.sizes[rank]) // without allocate's padding
	if n == 0 || base == nil {
		return []T{}, nil
	}
	return unsafe.Slice((*T)(base), n), nil
}

// Free releases w (MPI_Win_free; collective over the window's
// communicator). No epoch may be open on w: Unlock, UnlockAll, Complete and
// Wait first (a fence epoch may be open; it is ended). After Free, Local's
// slice of an allocated window must not be used, Create's and attached
// buffers are unpinned, and every call on w returns an ErrWin error.
func (w *Window[T]) Free() error {
	const call = "MPI_Win_free"
	if err := w.checkLive(call); err != nil {
		return err
	}
	switch {
	case w.access == epochStart:
		return rmaErr(mpi.ErrRMASync, call, "%v: access epoch opened by Start(%v) is not completed (call Complete first)", w, w.groupList)
	case w.access == epochLock:
		return rmaErr(mpi.ErrRMASync, call, "%v: ranks %v are still locked (call Unlock first)", w, w.lockedRanks())
	case w.access == epochLockAll:
		return rmaErr(mpi.ErrRMASync, call, "%v: LockAll epoch is still open (call UnlockAll first)", w)
	case w.posted:
		return rmaErr(mpi.ErrRMASync, call, "%v: exposure epoch opened by Post is not finished (call Wait first)", w)
	}
	rc := lowFree(w.h)
	if rc != 0 {
		return mpiErr(rc, call)
	}
	w.h = winNull
	w.freed = true
	w.local = nil
	w.access = epochNone
	w.unpinOps()
	w.memPin.Unpin()
	w.attached = nil
	windows.Lock()
	delete(windows.m, w.id)
	windows.Unlock()
	return nil
}

// checkLive returns an error if w cannot be used for call.
func (w *Window[T]) checkLive(call string) error {
	if err := mpi.CheckLive(call); err != nil {
		return err
	}
	if w == nil {
		return rmaErr(mpi.ErrWin, call, "nil window")
	}
	if w.freed {
		return rmaErr(mpi.ErrWin, call, "%v was freed", w)
	}
	return nil
}

func (w *Window[T]) checkRank(call string, rank int) error {
	if rank < 0 || rank >= w.size {
		return rmaErr(mpi.ErrRank, call, "rank %d out of range for %v of %d ranks", rank, w, w.size)
	}
	return nil
}

func (w *Window[T]) lockedRanks() []int {
	var r []int
	for i, l := range w.locks {
		if l != unlocked {
			r = append(r, i)
		}
	}
	return r
}

// pin keeps p (an origin or result buffer) pinned until the next
// synchronisation that completes every pending operation of w (a flush
// leaves up to keptPins pinned for reuse; the epoch's end unpins them). The
// last buffer pinned is not pinned again.
func (w *Window[T]) pin(p unsafe.Pointer) {
	if p == nil || p == w.lastPin {
		return
	}
	w.opPin.Pin(p)
	w.lastPin = p
	w.npins++
}

func (w *Window[T]) unpinOps() {
	if w.npins > 0 {
		w.opPin.Unpin()
		w.npins = 0
		w.lastPin = nil
	}
}
