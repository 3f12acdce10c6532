package cudaaware

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/spmd-go/spmd/mpi"
)

// Path is how device memory reaches MPI.
type Path int

const (
	// Auto is Direct when MPISupport reports a CUDA-aware MPI, Staged
	// otherwise.
	Auto Path = iota
	// Direct hands device addresses to MPI (CUDA-aware MPI only).
	Direct
	// Staged copies through pinned host memory in chunks, overlapping the
	// copy of one chunk with the transfer of the previous one.
	Staged
)

func (p Path) String() string {
	switch p {
	case Auto:
		return "auto"
	case Direct:
		return "direct"
	case Staged:
		return "staged"
	}
	return fmt.Sprintf("Path(%d)", int(p))
}

// DefaultChunkBytes is the staging chunk size when Options.ChunkBytes is 0.
const DefaultChunkBytes = 512 << 10

// Options configures a Pipeline. The zero value is Auto with
// DefaultChunkBytes and two staging buffers.
type Options struct {
	// Path chooses direct or staged transfers.
	Path Path
	// ChunkBytes is the staged chunk size in bytes, rounded down to whole
	// elements (at least one element). It applies to sends; a receive
	// follows the chunks its sender announces.
	ChunkBytes int
	// Depth is the number of pinned staging buffers (chunks in flight), at
	// least 2; 0 means 2.
	Depth int
}

// Pipeline moves device buffers over MPI for one device: it owns a copy
// stream, events and the pinned staging buffers, allocated once and reused
// by every transfer. A Pipeline serves one transfer at a time: a second
// concurrent SendDevice or RecvDevice on it returns ErrBusy (use one
// Pipeline per goroutine that transfers).
type Pipeline struct {
	dev    Device
	path   Path
	chunk  int // bytes
	depth  int
	stream Stream
	events []Event
	stage  []*HostMem
	busy   atomic.Bool

	// Reused by every transfer, so a transfer allocates nothing.
	sendHdr, recvHdr [hdrLen]int64
	reqs             []mpi.Request
}

// NewPipeline makes a pipeline for d. With Path Auto the path is chosen
// now, from MPISupport, so call it after mpi.Init. Forcing Direct on a GPU
// when MPI is not known to be CUDA-aware is an error (MPI would dereference
// device addresses as host memory): set EnvAware=1 to vouch for the
// library.
func NewPipeline(d Device, o Options) (*Pipeline, error) {
	if d == nil {
		return nil, errf("NewPipeline", "nil device")
	}
	if o.ChunkBytes < 0 || o.Depth < 0 || o.Depth == 1 {
		return nil, errf("NewPipeline", "ChunkBytes %d and Depth %d: want ChunkBytes >= 0 and Depth 0 or >= 2", o.ChunkBytes, o.Depth)
	}
	p := &Pipeline{dev: d, path: o.Path, chunk: o.ChunkBytes, depth: o.Depth}
	if p.chunk == 0 {
		p.chunk = DefaultChunkBytes
	}
	if p.depth == 0 {
		p.depth = 2
	}
	switch o.Path {
	case Auto:
		p.path = Staged
		if MPISupport().Aware {
			p.path = Direct
		}
	case Direct:
		if s := MPISupport(); !s.Aware && !d.host() {
			return nil, errf("NewPipeline", "Direct path on %s, but %s; set %s=1 if the library is CUDA-aware", d, s, EnvAware)
		}
	case Staged:
	default:
		return nil, errf("NewPipeline", "unknown path %d", int(o.Path))
	}
	var err error
	if p.stream, err = d.NewStream(); err != nil {
		return nil, err
	}
	for range p.depth {
		e, err := d.NewEvent()
		if err != nil {
			p.Close()
			return nil, err
		}
		p.events = append(p.events, e)
	}
	return p, nil
}

// Path returns the path the pipeline's sends and receives take.
func (p *Pipeline) Path() Path { return p.path }

// Device returns the pipeline's device.
func (p *Pipeline) Device() Device { return p.dev }

// ChunkBytes returns the staged chunk size in bytes.
func (p *Pipeline) ChunkBytes() int { return p.chunk }

// Close releases the stream, events and staging buffers.
func (p *Pipeline) Close() error {
	var errs []error
	if p.stream != nil {
		errs = append(errs, p.stream.Close())
		p.stream = nil
	}
	for _, e := range p.events {
		errs = append(errs, e.Close())
	}
	for _, h := range p.stage {
		errs = append(errs, h.Free())
	}
	p.events, p.stage = nil, nil
	return errors.Join(errs...)
}

// requests returns n null requests, reusing the pipeline's slice.
func (p *Pipeline) requests(n int) []mpi.Request {
	if cap(p.reqs) < n {
		p.reqs = make([]mpi.Request, n)
	}
	p.reqs = p.reqs[:n]
	clear(p.reqs)
	return p.reqs
}

// staging returns the depth staging buffers, each at least bytes long,
// growing them when a transfer needs bigger ones.
func (p *Pipeline) staging(bytes int) ([]*HostMem, error) {
	if len(p.stage) == p.depth && len(p.stage[0].Bytes()) >= bytes {
		return p.stage, nil
	}
	for _, h := range p.stage {
		h.Free()
	}
	p.stage = p.stage[:0]
	for range p.depth {
		h, err := p.dev.AllocHost(bytes)
		if err != nil {
			return nil, err
		}
		p.stage = append(p.stage, h)
	}
	return p.stage, nil
}

func (p *Pipeline) acquire(call string, mem *Mem) error {
	if p.stream == nil {
		return errf(call, "pipeline is closed")
	}
	if mem == nil {
		return errf(call, "zero Buffer (no device memory)")
	}
	if mem.dev != p.dev {
		return errf(call, "buffer on %s, pipeline on %s", mem.dev, p.dev)
	}
	if !p.busy.CompareAndSwap(false, true) {
		return fmt.Errorf("%w (%s)", ErrBusy, call)
	}
	return nil
}

// The wire protocol of one transfer, on (comm, tag) between one sender and
// one receiver: a header of hdrLen int64s {hdrMagic, elements, elements
// per chunk, element size}, then ceil(elements / per chunk) chunk messages of T, in
// order (MPI does not let messages of one sender, communicator and tag
// overtake each other). A direct send is one chunk. The header lets the
// receiver follow the sender's chunking whatever its own options, resolve
// AnySource and AnyTag before posting chunk receives, and drain a message
// that does not fit instead of leaving the sender blocked.
const (
	hdrLen   = 4
	hdrMagic = 0x5350_4d44_4355_4441 // "SPMDCUDA": tells a header from a foreign message
)

// chunkSpan returns chunk k's element offset and length.
func chunkSpan(k, per, n int) (int, int) {
	off := k * per
	return off, min(per, n-off)
}

func numChunks(n, per int) int {
	if n == 0 {
		return 0
	}
	return (n + per - 1) / per
}

// SendDevice sends the elements of buf to rank dest with tag, directly or
// staged as p's path says, and returns once buf may be reused. The
// receiver must call RecvDevice (any path, any chunk size). Transfers
// between the same two ranks on the same communicator and tag must not run
// concurrently: their chunks would interleave.
func SendDevice[T mpi.Elem](p *Pipeline, c *mpi.Comm, buf Buffer[T], dest, tag int) (err error) {
	const call = "SendDevice"
	if err := p.acquire(call, buf.mem); err != nil {
		return err
	}
	defer p.busy.Store(false)
	esz := mpi.ElemSize[T]()
	n := buf.n
	per := max(1, p.chunk/esz)
	if p.path == Direct {
		per = max(1, n)
	}
	p.sendHdr = [hdrLen]int64{hdrMagic, int64(n), int64(per), int64(esz)}
	hreq, err := mpi.Isend(c, p.sendHdr[:], dest, tag)
	if err != nil {
		return err
	}
	defer func() {
		if _, e := hreq.Wait(); err == nil {
			err = e
		}
	}()
	nch := numChunks(n, per)
	if nch == 0 {
		return nil
	}
	if p.path == Direct {
		r, err := mpi.IsendUnsafe[T](c, buf.mem.at(buf.off), n, dest, tag)
		if err != nil {
			return err
		}
		_, err = r.Wait()
		return err
	}
	return sendStaged[T](p, c, buf, dest, tag, per, nch)
}

// sendStaged: chunk k is copied device-to-host into staging slot k%depth
// and recorded on that slot's event; once the event completes, the slot is
// sent with Isend. The slot of chunk k-1 is refilled (with chunk
// k-1+depth) only after its send completes, so the copy of the next chunk
// runs while the previous one is on the wire.
func sendStaged[T mpi.Elem](p *Pipeline, c *mpi.Comm, buf Buffer[T], dest, tag, per, nch int) error {
	esz := mpi.ElemSize[T]()
	stage, err := p.staging(per * esz)
	if err != nil {
		return err
	}
	reqs := p.requests(p.depth)
	defer waitQuietly(reqs)
	defer p.stream.Synchronize() // on error, no copy may still be filling a slot
	issue := func(k int) error {
		slot := k % p.depth
		off, m := chunkSpan(k, per, buf.n)
		if err := p.stream.CopyDtoH(stage[slot].Bytes()[:m*esz], buf.mem, buf.off+off*esz); err != nil {
			return err
		}
		return p.stream.Record(p.events[slot])
	}
	for k := range min(p.depth, nch) {
		if err := issue(k); err != nil {
			return err
		}
	}
	for k := range nch {
		slot := k % p.depth
		if err := p.events[slot].Synchronize(); err != nil {
			return err
		}
		_, m := chunkSpan(k, per, buf.n)
		if reqs[slot], err = mpi.Isend(c, asElems[T](stage[slot].Bytes(), m), dest, tag); err != nil {
			return err
		}
		if k >= 1 && k-1+p.depth < nch {
			prev := (k - 1) % p.depth
			if _, err := reqs[prev].Wait(); err != nil {
				return err
			}
			if err := issue(k - 1 + p.depth); err != nil {
				return err
			}
		}
	}
	for i := range reqs {
		if _, err := reqs[i].Wait(); err != nil {
			return err
		}
	}
	return nil
}

// waitQuietly completes requests left behind by an error, so none stays
// pending.
func waitQuietly(reqs []mpi.Request) {
	for i := range reqs {
		if !reqs[i].IsNull() {
			reqs[i].Wait()
		}
	}
}

// RecvDevice receives a SendDevice message from source (or mpi.AnySource)
// with tag (or mpi.AnyTag) into buf, directly or staged as p's path says,
// and returns once the data is in device memory. Status.Count is the
// number of elements received, which may be less than buf.Len(). A message
// longer than buf, or of another element size, is received and dropped and
// reported as an mpi.ErrTruncate error (Status.Count is then the
// message's length) or an mpi.ErrType error (Count -1), so the sender does
// not block.
func RecvDevice[T mpi.Elem](p *Pipeline, c *mpi.Comm, buf Buffer[T], source, tag int) (mpi.Status, error) {
	const call = "RecvDevice"
	if err := p.acquire(call, buf.mem); err != nil {
		return mpi.Status{}, err
	}
	defer p.busy.Store(false)
	hdr := p.recvHdr[:]
	st, err := mpi.Recv(c, hdr, source, tag)
	if err != nil || st.Source == mpi.ProcNull {
		return st, err // from ProcNull: nothing arrives, as with MPI_Recv
	}
	if st.Count != hdrLen || hdr[0] != hdrMagic {
		return st, mpi.NewError(mpi.ErrTruncate, call, "from rank %d tag %d: the message is not a SendDevice header (%d elements): the sender did not use SendDevice", st.Source, st.Tag, st.Count)
	}
	n, per, esz := int(hdr[1]), int(hdr[2]), int(hdr[3])
	src, tg := st.Source, st.Tag
	if n < 0 || per < 1 {
		return st, mpi.NewError(mpi.ErrCount, call, "from rank %d tag %d: corrupt header %v", src, tg, hdr)
	}
	nch := numChunks(n, per)
	st.Count = n
	if want := mpi.ElemSize[T](); esz != want {
		drain(c, src, tg, nch)
		st.Count = -1 // as mpi: not a whole number of T
		return st, mpi.NewError(mpi.ErrType, call, "from rank %d tag %d: %d-byte elements sent, %d-byte elements expected", src, tg, esz, want)
	}
	if n > buf.n {
		drain(c, src, tg, nch)
		return st, mpi.NewError(mpi.ErrTruncate, call, "from rank %d tag %d: message of %d elements does not fit a buffer of %d", src, tg, n, buf.n)
	}
	if nch == 0 {
		return st, nil
	}
	if p.path == Direct {
		err = recvDirect[T](c, p.requests(nch), buf, src, tg, per)
	} else {
		err = recvStaged[T](p, c, buf, src, tg, n, per, nch)
	}
	return st, err
}

// drain receives and drops nch chunks that cannot be delivered.
func drain(c *mpi.Comm, src, tag, nch int) {
	for range nch {
		mpi.RecvAny[byte](c, src, tag)
	}
}

func recvDirect[T mpi.Elem](c *mpi.Comm, reqs []mpi.Request, buf Buffer[T], src, tag, per int) error {
	esz := mpi.ElemSize[T]()
	defer cancelQuietly(reqs)
	for k := range reqs {
		off, m := chunkSpan(k, per, buf.n)
		var err error
		if reqs[k], err = mpi.IrecvUnsafe[T](c, buf.mem.at(buf.off+off*esz), m, src, tag); err != nil {
			return err
		}
	}
	return checkChunks(reqs, per, buf.n, src, tag)
}

func checkChunks(reqs []mpi.Request, per, n, src, tag int) error {
	for k := range reqs {
		st, err := reqs[k].Wait()
		if err != nil {
			return err
		}
		if _, m := chunkSpan(k, per, n); st.Count != m {
			return mpi.NewError(mpi.ErrCount, "RecvDevice", "from rank %d tag %d: chunk %d has %d elements, want %d", src, tag, k, st.Count, m)
		}
	}
	return nil
}

// recvStaged: chunk k is received into staging slot k%depth, then copied
// host-to-device on the pipeline's stream (so chunks land in order) and
// recorded on the slot's event. The slot of chunk k-1 receives chunk
// k-1+depth once its copy has completed, so the next receive is on the
// wire while the current chunk is copied.
func recvStaged[T mpi.Elem](p *Pipeline, c *mpi.Comm, buf Buffer[T], src, tag, n, per, nch int) error {
	esz := mpi.ElemSize[T]()
	stage, err := p.staging(per * esz)
	if err != nil {
		return err
	}
	reqs := p.requests(p.depth)
	defer cancelQuietly(reqs)
	defer p.stream.Synchronize() // on error, no copy may still read a slot
	post := func(k int) error {
		slot := k % p.depth
		_, m := chunkSpan(k, per, n)
		var err error
		reqs[slot], err = mpi.Irecv(c, asElems[T](stage[slot].Bytes(), m), src, tag)
		return err
	}
	for k := range min(p.depth, nch) {
		if err := post(k); err != nil {
			return err
		}
	}
	for k := range nch {
		slot := k % p.depth
		off, m := chunkSpan(k, per, n)
		st, err := reqs[slot].Wait()
		if err != nil {
			return err
		}
		if st.Count != m {
			return mpi.NewError(mpi.ErrCount, "RecvDevice", "from rank %d tag %d: chunk %d has %d elements, want %d", src, tag, k, st.Count, m)
		}
		if err := p.stream.CopyHtoD(buf.mem, buf.off+off*esz, stage[slot].Bytes()[:m*esz]); err != nil {
			return err
		}
		if err := p.stream.Record(p.events[slot]); err != nil {
			return err
		}
		if k >= 1 && k-1+p.depth < nch {
			prev := (k - 1) % p.depth
			if err := p.events[prev].Synchronize(); err != nil {
				return err
			}
			if err := post(k - 1 + p.depth); err != nil {
				return err
			}
		}
	}
	return p.stream.Synchronize()
}

// cancelQuietly cancels and completes receives left behind by an error.
func cancelQuietly(reqs []mpi.Request) {
	for i := range reqs {
		if !reqs[i].IsNull() {
			reqs[i].Cancel()
			reqs[i].Wait()
		}
	}
}
