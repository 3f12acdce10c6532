package mpi

import (
	"math"
	"unsafe"
)

const (
	modeStd  = 0
	modeSync = 1
)

// checkLen rejects buffers longer than a C int can count.
func checkLen(call string, n int) error {
	if n > math.MaxInt32 {
		return argErr(clsCount, call, "buffer of %d elements exceeds the MPI count limit %d", n, math.MaxInt32)
	}
	return nil
}

func (c *Comm) checkSend(call string, n, dest, tag int) error {
	if err := c.check(call); err != nil {
		return err
	}
	if err := c.checkDest(call, dest); err != nil {
		return err
	}
	if err := c.checkTag(call, tag, false); err != nil {
		return err
	}
	return checkLen(call, n)
}

func (c *Comm) checkRecv(call string, n, src, tag int) error {
	if err := c.check(call); err != nil {
		return err
	}
	if err := c.checkSource(call, src); err != nil {
		return err
	}
	if err := c.checkTag(call, tag, true); err != nil {
		return err
	}
	return checkLen(call, n)
}

// Send sends buf to rank dest with tag (MPI_Send, blocking). The whole slice
// is the message; its element type gives the datatype.
func Send[T Elem](c *Comm, buf []T, dest, tag int) error {
	if err := c.checkSend("MPI_Send", len(buf), dest, tag); err != nil {
		return err
	}
	if rc := lowSend(modeStd, bufOf(buf), dest, tag, c.h); rc != 0 {
		return codeErr(rc, "MPI_Send")
	}
	return nil
}

// Ssend is Send in synchronous mode: it returns once the receive has started
// (MPI_Ssend).
func Ssend[T Elem](c *Comm, buf []T, dest, tag int) error {
	if err := c.checkSend("MPI_Ssend", len(buf), dest, tag); err != nil {
		return err
	}
	if rc := lowSend(modeSync, bufOf(buf), dest, tag, c.h); rc != 0 {
		return codeErr(rc, "MPI_Ssend")
	}
	return nil
}

// Recv receives a message from source (or AnySource) with tag (or AnyTag)
// into buf (MPI_Recv). A message longer than buf is an ErrTruncate error;
// Status.Count tells how many elements arrived.
func Recv[T Elem](c *Comm, buf []T, source, tag int) (Status, error) {
	if err := c.checkRecv("MPI_Recv", len(buf), source, tag); err != nil {
		return Status{}, err
	}
	st := lowRecv(bufOf(buf), source, tag, c.h)
	return st.status("MPI_Recv")
}

// Sendrecv sends send to dest and receives into recv from source in one
// call, without deadlock between the two (MPI_Sendrecv).
func Sendrecv[S, R Elem](c *Comm, send []S, dest, sendTag int, recv []R, source, recvTag int) (Status, error) {
	if err := c.checkSend("MPI_Sendrecv", len(send), dest, sendTag); err != nil {
		return Status{}, err
	}
	if err := c.checkRecv("MPI_Sendrecv", len(recv), source, recvTag); err != nil {
		return Status{}, err
	}
	st := lowSendrecv(bufOf(send), dest, sendTag, bufOf(recv), source, recvTag, c.h)
	return st.status("MPI_Sendrecv")
}

// SendrecvReplace sends buf to dest and replaces its contents with the
// message received from source (MPI_Sendrecv_replace).
func SendrecvReplace[T Elem](c *Comm, buf []T, dest, sendTag, source, recvTag int) (Status, error) {
	if err := c.checkSend("MPI_Sendrecv_replace", len(buf), dest, sendTag); err != nil {
		return Status{}, err
	}
	if err := c.checkRecv("MPI_Sendrecv_replace", len(buf), source, recvTag); err != nil {
		return Status{}, err
	}
	st := lowSendrecvReplace(bufOf(buf), dest, sendTag, source, recvTag, c.h)
	return st.status("MPI_Sendrecv_replace")
}

func dataPtr[T any](s []T) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.SliceData(s))
}

// Isend starts a send of buf to dest (MPI_Isend). buf stays pinned and must
// not be modified until the request completes.
func Isend[T Elem](c *Comm, buf []T, dest, tag int) (Request, error) {
	return isend(modeStd, "MPI_Isend", c, buf, dest, tag)
}

// Issend starts a synchronous-mode send (MPI_Issend): it completes once the
// matching receive has started.
func Issend[T Elem](c *Comm, buf []T, dest, tag int) (Request, error) {
	return isend(modeSync, "MPI_Issend", c, buf, dest, tag)
}

func isend[T Elem](mode int, call string, c *Comm, buf []T, dest, tag int) (Request, error) {
	if err := c.checkSend(call, len(buf), dest, tag); err != nil {
		return Request{}, err
	}
	b := bufOf(buf)
	h, rc := lowIsend(mode, b, dest, tag, c.h)
	if rc != 0 {
		return Request{}, codeErr(rc, call)
	}
	return newRequest(h, b.k, false, dataPtr(buf), nil), nil
}

// IsendTest starts a standard-mode send like Isend and tests it in the same
// cgo call (MPI_Isend, MPI_Test). When the library finished the send at once,
// as it usually does for a small (eager) message, done is true, the Request
// is null and buf is free again; nothing was pinned. Otherwise the Request
// is pending, as Isend's. A caller that polls many requests saves a pin, an
// unpin and a completion per eager message.
func IsendTest[T Elem](c *Comm, buf []T, dest, tag int) (r Request, done bool, err error) {
	if err := c.checkSend("MPI_Isend", len(buf), dest, tag); err != nil {
		return Request{}, false, err
	}
	b := bufOf(buf)
	h, done, rc := lowIsendTest(b, dest, tag, c.h)
	if rc != 0 {
		if h != reqNull && !done {
			// The send started but the test failed: hand the request over
			// so that the caller can still complete it.
			r = newRequest(h, b.k, false, dataPtr(buf), nil)
		}
		return r, false, codeErr(rc, "MPI_Isend")
	}
	if done {
		return Request{}, true, nil
	}
	return newRequest(h, b.k, false, dataPtr(buf), nil), false, nil
}

// Irecv starts a receive into buf (MPI_Irecv). buf stays pinned and must not
// be read or written until the request completes.
func Irecv[T Elem](c *Comm, buf []T, source, tag int) (Request, error) {
	if err := c.checkRecv("MPI_Irecv", len(buf), source, tag); err != nil {
		return Request{}, err
	}
	b := bufOf(buf)
	h, rc := lowIrecv(b, source, tag, c.h)
	if rc != 0 {
		return Request{}, codeErr(rc, "MPI_Irecv")
	}
	return newRequest(h, b.k, false, dataPtr(buf), nil), nil
}

// SendInit makes a persistent send request (MPI_Send_init): Start begins a
// send of buf's current contents, Wait or Test completes it, and Free
// releases the request. buf stays pinned until Free.
func SendInit[T Elem](c *Comm, buf []T, dest, tag int) (Request, error) {
	if err := c.checkSend("MPI_Send_init", len(buf), dest, tag); err != nil {
		return Request{}, err
	}
	b := bufOf(buf)
	h, rc := lowSendInit(modeStd, b, dest, tag, c.h)
	if rc != 0 {
		return Request{}, codeErr(rc, "MPI_Send_init")
	}
	return newRequest(h, b.k, true, dataPtr(buf), nil), nil
}

// RecvInit makes a persistent receive request (MPI_Recv_init); see SendInit.
func RecvInit[T Elem](c *Comm, buf []T, source, tag int) (Request, error) {
	if err := c.checkRecv("MPI_Recv_init", len(buf), source, tag); err != nil {
		return Request{}, err
	}
	b := bufOf(buf)
	h, rc := lowRecvInit(b, source, tag, c.h)
	if rc != 0 {
		return Request{}, codeErr(rc, "MPI_Recv_init")
	}
	return newRequest(h, b.k, true, dataPtr(buf), nil), nil
}

// Probe blocks until a message from source with tag can be received and
// returns its status, with Count in bytes (MPI_Probe).
func Probe(c *Comm, source, tag int) (Status, error) {
	if err := c.checkRecv("MPI_Probe", 0, source, tag); err != nil {
		return Status{}, err
	}
	st := lowProbe(source, tag, c.h)
	return st.status("MPI_Probe")
}

// Iprobe reports whether a message from source with tag can be received,
// with its status (Count in bytes) if so (MPI_Iprobe).
func Iprobe(c *Comm, source, tag int) (bool, Status, error) {
	if err := c.checkRecv("MPI_Iprobe", 0, source, tag); err != nil {
		return false, Status{}, err
	}
	flag, st := lowIprobe(source, tag, c.h)
	if !flag {
		if st.rc != 0 {
			return false, Status{}, codeErr(int(st.rc), "MPI_Iprobe")
		}
		return false, Status{}, nil
	}
	s, err := st.status("MPI_Iprobe")
	return true, s, err
}

// Message is a message matched by Mprobe or Improbe, to be received with
// Mrecv exactly once. No other receive can take it.
type Message struct {
	h    msgH
	used bool
}

// Mprobe blocks until a message from source with tag arrives, removes it
// from matching and returns it with its status, Count in bytes
// (MPI_Mprobe). Use it to receive messages of unknown size.
func Mprobe(c *Comm, source, tag int) (*Message, Status, error) {
	if err := c.checkRecv("MPI_Mprobe", 0, source, tag); err != nil {
		return nil, Status{}, err
	}
	m, _, st := lowMprobe(true, source, tag, c.h)
	s, err := st.status("MPI_Mprobe")
	if err != nil {
		return nil, s, err
	}
	return &Message{h: m}, s, nil
}

// Improbe is the nonblocking Mprobe: the message is nil if none is ready.
func Improbe(c *Comm, source, tag int) (*Message, Status, error) {
	if err := c.checkRecv("MPI_Improbe", 0, source, tag); err != nil {
		return nil, Status{}, err
	}
	m, flag, st := lowMprobe(false, source, tag, c.h)
	if !flag {
		if st.rc != 0 {
			return nil, Status{}, codeErr(int(st.rc), "MPI_Improbe")
		}
		return nil, Status{}, nil
	}
	s, err := st.status("MPI_Improbe")
	if err != nil {
		return nil, s, err
	}
	return &Message{h: m}, s, nil
}

// Mrecv receives a message matched by Mprobe or Improbe into buf (MPI_Mrecv).
func Mrecv[T Elem](m *Message, buf []T) (Status, error) {
	if !live() {
		return Status{}, stateErr("MPI_Mrecv")
	}
	if m == nil || m.used {
		return Status{}, argErr(clsRequest, "MPI_Mrecv", "message is nil or was already received")
	}
	if err := checkLen("MPI_Mrecv", len(buf)); err != nil {
		return Status{}, err
	}
	m.used = true
	st := lowMrecv(bufOf(buf), m.h)
	return st.status("MPI_Mrecv")
}

// RecvAny receives the next message from source with tag whatever its size:
// it matches the message with Mprobe, allocates a slice of the right length
// and receives into it. The message's byte count must be a whole number of
// T's; otherwise RecvAny returns an ErrTruncate error (the message is then
// consumed into a byte buffer and dropped, so matching is not disturbed).
func RecvAny[T Elem](c *Comm, source, tag int) ([]T, Status, error) {
	m, st, err := Mprobe(c, source, tag)
	if err != nil {
		return nil, st, err
	}
	var z T
	size := int(unsafe.Sizeof(z))
	if st.Count%size != 0 {
		drop := make([]byte, st.Count)
		Mrecv(m, drop)
		return nil, st, argErr(clsTruncate, "MPI_Mrecv", "message of %d bytes is not a whole number of %d-byte elements", st.Count, size)
	}
	buf := make([]T, st.Count/size)
	st, err = Mrecv(m, buf)
	return buf, st, err
}
