package dagmpi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// pipeline submits a small 2-rank graph: produce on each rank, exchange,
// combine.
func pipeline(rt *dagmpi.Runtime) error {
	a, err := newF64(rt, 4, 0, 1)
	if err != nil {
		return err
	}
	b, err := newF64(rt, 4, 1, 2)
	if err != nil {
		return err
	}
	scale := func(d *dagmpi.Data[float64]) func(*dagmpi.Task) error {
		return func(t *dagmpi.Task) error {
			for i := range d.Buf(t) {
				d.Buf(t)[i] *= 3
			}
			return nil
		}
	}
	if err := rt.Submit(scale(a), a.ReadWrite(), dagmpi.Name("scale a")); err != nil {
		return err
	}
	if err := rt.Submit(scale(b), b.ReadWrite(), dagmpi.Name("scale b")); err != nil {
		return err
	}
	if err := rt.Submit(func(t *dagmpi.Task) error {
		x, y := a.Buf(t), b.Buf(t)
		for i := range y {
			y[i] += x[i]
		}
		return nil
	}, a.Read(), b.ReadWrite(), dagmpi.Name("add a to b")); err != nil {
		return err
	}
	if err := rt.Submit(scale(a), a.Write(), dagmpi.Name("reset a")); err != nil {
		return err
	}
	if err := rt.Submit(func(t *dagmpi.Task) error {
		copy(a.Buf(t), b.Buf(t))
		return nil
	}, b.Read(), a.ReadWrite(), dagmpi.Name("copy b to a")); err != nil {
		return err
	}
	return rt.Wait()
}

func TestGraphDOTGolden(t *testing.T) {
	checkNoLeak(t)
	g := new(dagmpi.Graph)
	errs := spmdPer(t, inproc.Config{Ranks: 2}, func(r int) []dagmpi.Option {
		if r == 0 {
			return []dagmpi.Option{dagmpi.WithGraph(g)}
		}
		return nil
	}, pipeline)
	noErrors(t, errs)
	var buf bytes.Buffer
	if err := g.WriteDOT(&buf); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "pipeline.dot")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run DOT -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("DOT differs from %s (rerun with -update and review the diff):\n%s", golden, buf.Bytes())
	}
}

// progressTrack is the tid of the tasks run on the progress goroutine.
const progressTrack = 1<<20 - 1

func TestChromeTrace(t *testing.T) {
	checkNoLeak(t)
	tr := dagmpi.NewChromeTrace()
	errs := spmd(t, inproc.Config{Ranks: 2}, []dagmpi.Option{dagmpi.WithObserver(tr), dagmpi.WithWorkers(2)}, pipeline)
	noErrors(t, errs)
	var buf bytes.Buffer
	if _, err := tr.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	var evs []struct {
		Name string  `json:"name"`
		Cat  string  `json:"cat"`
		Ph   string  `json:"ph"`
		Pid  int     `json:"pid"`
		Tid  int     `json:"tid"`
		ID   uint64  `json:"id"`
		Dur  float64 `json:"dur"`
	}
	if err := json.Unmarshal(buf.Bytes(), &evs); err != nil {
		t.Fatalf("trace is not JSON: %v\n%s", err, buf.Bytes())
	}
	tasks := map[string]int{}
	starts, ends := map[uint64]int{}, map[uint64]int{}
	procs := 0
	for _, e := range evs {
		switch {
		case e.Ph == "X" && e.Cat == "task":
			if e.Tid >= 2 && e.Tid != progressTrack {
				t.Errorf("task %q on track %d: want a worker (0, 1) or the progress track", e.Name, e.Tid)
			}
			tasks[e.Name] = e.Pid
		case e.Ph == "s":
			starts[e.ID] = e.Pid
		case e.Ph == "f":
			ends[e.ID] = e.Pid
		case e.Ph == "M" && e.Name == "process_name":
			procs++
		}
	}
	want := map[string]int{"scale a": 0, "scale b": 1, "add a to b": 1, "reset a": 0, "copy b to a": 0}
	for name, rank := range want {
		if r, ok := tasks[name]; !ok || r != rank {
			t.Errorf("task %q: in trace on rank %d (present %v), want rank %d", name, r, ok, rank)
		}
	}
	if procs != 2 {
		t.Errorf("%d process names, want 2", procs)
	}
	// a goes 0->1, b goes 1->0: two flows, each from one rank to the other.
	if len(starts) != 2 || len(ends) != 2 {
		t.Errorf("flows: %d starts, %d ends, want 2 and 2", len(starts), len(ends))
	}
	for id, src := range starts {
		if dst, ok := ends[id]; !ok || dst == src {
			t.Errorf("flow %d starts on rank %d, ends on %d (found %v)", id, src, dst, ok)
		}
	}
}

// countObs counts events.
type countObs struct{ tasks, xfers atomic.Int64 }

func (c *countObs) Task(dagmpi.TaskEvent)         { c.tasks.Add(1) }
func (c *countObs) Transfer(dagmpi.TransferEvent) { c.xfers.Add(1) }

func TestStatsAndObserverAgree(t *testing.T) {
	checkNoLeak(t)
	obs := &countObs{}
	var stats [2]dagmpi.Stats
	errs := spmd(t, inproc.Config{Ranks: 2}, []dagmpi.Option{dagmpi.WithObserver(obs)}, func(rt *dagmpi.Runtime) error {
		if err := pipeline(rt); err != nil {
			return err
		}
		stats[rt.Rank()] = rt.Stats()
		return nil
	})
	noErrors(t, errs)
	if got := stats[0].Tasks + stats[1].Tasks; got != 5 || obs.tasks.Load() != 5 {
		t.Errorf("tasks: stats %d, observer %d, want 5", got, obs.tasks.Load())
	}
	if stats[0].Sends != 1 || stats[1].Recvs != 1 || stats[1].Sends != 1 || stats[0].Recvs != 1 {
		t.Errorf("stats %+v: want one send and one receive per rank", stats)
	}
	if stats[0].BytesSent != 32 || stats[1].BytesRecv != 32 {
		t.Errorf("bytes: rank 0 sent %d, rank 1 received %d, want 32", stats[0].BytesSent, stats[1].BytesRecv)
	}
	if obs.xfers.Load() != 4 {
		t.Errorf("observer saw %d transfer events, want 4", obs.xfers.Load())
	}
}
