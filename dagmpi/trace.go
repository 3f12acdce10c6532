package dagmpi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// ChromeTrace is an Observer that records events for the Chrome/Perfetto
// trace viewer (the JSON "trace event" format): one process per rank, one
// track per worker, one for the tasks run on the progress goroutine (see
// WithInline), one track for the rank's transfers, and a flow arrow
// from each send to its receive. One ChromeTrace may observe the ranks of
// an in-process job together; with one process per rank, each rank writes
// its own file and the event arrays can be concatenated, because
// timestamps are wall-clock microseconds.
type ChromeTrace struct {
	mu     sync.Mutex
	events []chromeEvent
	ranks  map[int]int  // rank -> highest worker seen
	inline map[int]bool // ranks with tasks on the progress track
}

type chromeEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	ID   uint64         `json:"id,omitempty"`
	Bp   string         `json:"bp,omitempty"`
	Args map[string]any `json:"args,omitempty"`
}

// transferTrack is the tid of a rank's transfer track; progressTrack that
// of its tasks run on the progress goroutine.
const (
	transferTrack = 1 << 20
	progressTrack = transferTrack - 1
)

var _ Observer = (*ChromeTrace)(nil)

// NewChromeTrace returns an empty trace.
func NewChromeTrace() *ChromeTrace {
	return &ChromeTrace{ranks: make(map[int]int), inline: make(map[int]bool)}
}

func micros(t time.Time) float64 { return float64(t.UnixNano()) / 1e3 }

// Task implements Observer.
func (c *ChromeTrace) Task(e TaskEvent) {
	name := e.Name
	if name == "" {
		name = "task"
	}
	ev := chromeEvent{Name: name, Cat: "task", Ph: "X", Ts: micros(e.Start), Dur: micros(e.End) - micros(e.Start),
		Pid: e.Rank, Tid: e.Worker, Args: map[string]any{"seq": e.Seq}}
	if e.Inline {
		ev.Tid = progressTrack
	}
	c.mu.Lock()
	c.events = append(c.events, ev)
	if e.Inline {
		c.inline[e.Rank] = true
		if _, ok := c.ranks[e.Rank]; !ok {
			c.ranks[e.Rank] = 0
		}
	} else if w, ok := c.ranks[e.Rank]; !ok || e.Worker > w {
		c.ranks[e.Rank] = e.Worker
	}
	c.mu.Unlock()
}

// flowID names a transfer the same way on both sides.
func flowID(src, dst int, seq uint64) uint64 {
	return uint64(src)<<48 ^ uint64(dst)<<32 ^ seq + 1
}

// Transfer implements Observer.
func (c *ChromeTrace) Transfer(e TransferEvent) {
	src, dst, name, ph := e.Peer, e.Rank, "recv", "f"
	if e.Send {
		src, dst, name, ph = e.Rank, e.Peer, "send", "s"
	}
	id := flowID(src, dst, e.Seq)
	x := chromeEvent{Name: fmt.Sprintf("%s d%d", name, e.Data), Cat: "transfer", Ph: "X", Ts: micros(e.Start),
		Dur: micros(e.End) - micros(e.Start), Pid: e.Rank, Tid: transferTrack,
		Args: map[string]any{"peer": e.Peer, "bytes": e.Bytes, "transfer": e.Seq, "task": e.Task}}
	flow := chromeEvent{Name: "transfer", Cat: "transfer", Ph: ph, Ts: micros(e.Start), Pid: e.Rank, Tid: transferTrack, ID: id}
	if !e.Send {
		flow.Ts = (micros(e.Start) + micros(e.End)) / 2 // inside the receive's slice
		flow.Bp = "e"
	}
	c.mu.Lock()
	c.events = append(c.events, x, flow)
	if _, ok := c.ranks[e.Rank]; !ok {
		c.ranks[e.Rank] = 0
	}
	c.mu.Unlock()
}

// WriteTo writes the trace as a JSON array of events.
func (c *ChromeTrace) WriteTo(w io.Writer) (int64, error) {
	c.mu.Lock()
	evs := append([]chromeEvent(nil), c.events...)
	var ranks []int
	for r := range c.ranks {
		ranks = append(ranks, r)
	}
	workers := make(map[int]int, len(c.ranks))
	for r, n := range c.ranks {
		workers[r] = n
	}
	inline := make(map[int]bool, len(c.inline))
	for r := range c.inline {
		inline[r] = true
	}
	c.mu.Unlock()
	sort.Ints(ranks)
	var meta []chromeEvent
	for _, r := range ranks {
		meta = append(meta,
			chromeEvent{Name: "process_name", Ph: "M", Pid: r, Args: map[string]any{"name": fmt.Sprintf("rank %d", r)}},
			chromeEvent{Name: "process_sort_index", Ph: "M", Pid: r, Args: map[string]any{"sort_index": r}},
			chromeEvent{Name: "thread_name", Ph: "M", Pid: r, Tid: transferTrack, Args: map[string]any{"name": "transfers"}})
		for wk := 0; wk <= workers[r]; wk++ {
			meta = append(meta, chromeEvent{Name: "thread_name", Ph: "M", Pid: r, Tid: wk, Args: map[string]any{"name": fmt.Sprintf("worker %d", wk)}})
		}
		if inline[r] {
			meta = append(meta, chromeEvent{Name: "thread_name", Ph: "M", Pid: r, Tid: progressTrack, Args: map[string]any{"name": "progress (inline tasks)"}})
		}
	}
	cw := &countWriter{w: w}
	bw := bufio.NewWriter(cw)
	enc := json.NewEncoder(bw)
	bw.WriteString("[\n")
	all := append(meta, evs...)
	for i := range all {
		if i > 0 {
			bw.WriteString(",")
		}
		if err := enc.Encode(&all[i]); err != nil {
			return cw.n, err
		}
	}
	bw.WriteString("]\n")
	err := bw.Flush()
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
