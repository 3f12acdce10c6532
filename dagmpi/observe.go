package dagmpi

import (
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
	BytesSent int64         // bytes of finished sends
	BytesRecv int64         // bytes of finished receives
	Idle      time.Duration // total time workers spent parked without work
	Comm      time.Duration // time with at least one transfer in the Transport
}

type counters struct {
	tasks, sends, recvs, bytesSent, bytesRecv, idle, comm atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Tasks:     c.tasks.Load(),
		Sends:     c.sends.Load(),
		Recvs:     c.recvs.Load(),
		BytesSent: c.bytesSent.Load(),
		BytesRecv: c.bytesRecv.Load(),
		Idle:      time.Duration(c.idle.Load()),
		Comm:      time.Duration(c.comm.Load()),
	}
}
