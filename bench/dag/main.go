// Command dag measures the dagmpi runtime on synthetic task graphs.
//
//	go build -o dagbench ./bench/dag
//	./dagbench -shape empty -tasks 2000000 -workers 1              # in-process, 1 rank
//	./dagbench -shape skip -ranks 2 -tasks 10000000                # metadata path
//	mpirun -np 2 ./dagbench -transport mpi -shape chain -tasks 20000
//
// Shapes:
//
//	empty      independent tasks with no data, on rank i%P
//	chain      one 8-byte Data read-written by task i on rank i%P (a remote
//	           dependency per task when P > 1); also measures the raw 8-byte
//	           ping-pong of the same transport for comparison
//	fanout     rounds: one task updates a Data on rank 0, then P*8 tasks on
//	           every rank read it and write their own Data
//	fanin      rounds: P*8 tasks on every rank write their own Data, then one
//	           task on rank 0 reads 8 of them at a time (P tasks per round)
//	wavefront  an n x n grid of tiles with tile (i,j) on rank (i+j)%P, task
//	           (i,j) reads tiles (i-1,j) and (i,j-1) and updates its own
//	skip       tasks that all run on the last rank: the other ranks only
//	           update metadata; their submission rate is reported
//
// Each result is the slowest rank's time from the start (after a collective
// Wait) to the end of the final Wait; "submit" is the slowest rank's time
// in Submit calls, included in it. For the chain, "us/hop" is the slowest
// rank's time from the end of its submission to the end of its Wait, per
// task. With -json, rank 0 prints one JSON object per result.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
	"github.com/spmd-go/spmd/dagmpi/mux"
	"github.com/spmd-go/spmd/mpi"
)

type config struct {
	pending   int
	shape     string
	tasks     int
	workers   int
	transport string
	bytes     int
	ranks     int
	jsonOut   bool
	reps      int
	pingIters int
	spin      time.Duration
	inline    time.Duration
	recvs     int
	locked    bool
	cpuprof   string
}

type result struct {
	Shape     string  `json:"shape"`
	Transport string  `json:"transport"`
	Ranks     int     `json:"ranks"`
	Workers   int     `json:"workers"`
	Tasks     int     `json:"tasks"`
	Seconds   float64 `json:"seconds"`
	TasksPerS float64 `json:"tasks_per_s"`
	USPerTask float64 `json:"us_per_task"`
	// chain only: the raw 8-byte ping-pong latency (half a round trip) of
	// the same transport, and the chain's time per remote dependency over it.
	// Under mpirun the ping-pong runs before and after the chain, and
	// PingPongUS is their mean: the host's speed drifts between jobs and
	// within them, and the reference brackets what it is compared with.
	PingPongUS       float64 `json:"pingpong_us,omitempty"`
	PingPongBeforeUS float64 `json:"pingpong_before_us,omitempty"`
	PingPongAfterUS  float64 `json:"pingpong_after_us,omitempty"`
	RatioToPP        float64 `json:"ratio_to_pingpong,omitempty"`
	// chain under mpirun only: the C reference loops of the same job (see
	// cref.go), one way: the blocking ping-pong in C, and the asynchronous
	// hop in C (posted receives polled with MPI_Testsome, MPI_Isend and
	// MPI_Test, the receive posted again): what MPI alone costs a remote
	// dependency carried the way the runtime carries it.
	CPingPongUS float64 `json:"c_pingpong_us,omitempty"`
	CHopUS      float64 `json:"c_hop_us,omitempty"`
	HopToCHop   float64 `json:"hop_ratio_to_c_hop,omitempty"`
	// SubmitS is the slowest rank's time in its Submit calls (included in
	// Seconds). HopUS (chain only) is the slowest rank's time from the end
	// of its submission to the end of its Wait, per task: the time per
	// remote dependency once everything is submitted. Under mpirun each
	// rank has one core (GOMAXPROCS=1), and the submitter, locked to the
	// main thread, keeps it until it blocks, so no task runs while a rank
	// submits and Seconds is close to SubmitS plus Tasks*HopUS.
	SubmitS    float64 `json:"submit_s"`
	HopUS      float64 `json:"hop_us,omitempty"`
	HopToPP    float64 `json:"hop_ratio_to_pingpong,omitempty"`
	Rep        int     `json:"rep"`
	GoMaxProcs int     `json:"gomaxprocs"`
}

func main() {
	var c config
	flag.StringVar(&c.shape, "shape", "empty", "empty|chain|fanout|fanin|wavefront|skip|bcast")
	flag.IntVar(&c.bytes, "bytes", 8, "bytes of the broadcast Data (-shape bcast)")
	flag.IntVar(&c.tasks, "tasks", 1000000, "number of tasks (approximate for fanout, fanin, wavefront)")
	flag.IntVar(&c.workers, "workers", 1, "worker goroutines per rank")
	flag.StringVar(&c.transport, "transport", "inproc", "inproc (goroutine ranks), or under mpirun: mpi (= p2p), rma (one-sided), auto (dagmpi/mux) or collective (p2p with broadcast trees)")
	flag.IntVar(&c.ranks, "ranks", 1, "ranks of the in-process transport")
	flag.BoolVar(&c.jsonOut, "json", false, "print one JSON object per result on rank 0")
	flag.IntVar(&c.reps, "reps", 3, "repetitions")
	flag.IntVar(&c.pingIters, "pingpong", 10000, "iterations of the raw ping-pong (chain)")
	flag.StringVar(&c.cpuprof, "cpuprofile", "", "write a CPU profile of rank 0 (mpi) or of the process (inproc) to this file")
	flag.IntVar(&c.recvs, "recvs", 32, "receives posted at once (dagmpi.WithMaxRecvsPosted)")
	flag.IntVar(&c.pending, "pending", 0, "operations submitted and not finished per rank (dagmpi.WithMaxPending; 0: the default)")
	flag.DurationVar(&c.inline, "inline", 50*time.Microsecond, "longest body run inline on the progress goroutine before inline runs pause; 0: never (dagmpi.WithInline)")
	flag.BoolVar(&c.locked, "locked", false, "lock the progress goroutine to one OS thread (dagmpi.WithLockedThread)")
	flag.DurationVar(&c.spin, "spin", 500*time.Microsecond, "progress spin before sleeping (dagmpi.WithSpin)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "dagbench:", err)
		os.Exit(1)
	}
}

func run(c config) error {
	switch c.shape {
	case "empty", "chain", "fanout", "fanin", "wavefront", "skip", "bcast":
	default:
		return fmt.Errorf("-shape %q: want empty, chain, fanout, fanin, wavefront, skip or bcast", c.shape)
	}
	if c.tasks < 1 || c.workers < 1 || c.reps < 1 || c.ranks < 1 {
		return errors.New("-tasks, -workers, -reps and -ranks must be at least 1")
	}
	switch c.transport {
	case "inproc":
		return runInproc(c)
	case "mpi", "p2p", "rma", "auto", "collective":
		return runMPI(c)
	}
	return fmt.Errorf("-transport %q: want inproc, mpi (= p2p), rma, auto or collective", c.transport)
}

// rankResult is what one rank measured.
type rankResult struct {
	seconds float64
	submit  float64 // of seconds, the time spent in Submit calls
	tasks   int     // tasks the result counts (skip: tasks this rank submitted)
	pp      float64
	ppB     float64 // pp before and after the chain (mpirun), rank 0 only
	ppA     float64
	cpp     float64 // C blocking ping-pong, one way (chain under mpirun)
	chop    float64 // C asynchronous hop, one way (chain under mpirun)
}

func runInproc(c config) error {
	if c.cpuprof != "" {
		stop, err := startProfile(c.cpuprof)
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.shape == "skip" && c.ranks < 2 {
		return errors.New("-shape skip needs at least 2 ranks (-ranks 2)")
	}
	for rep := 0; rep < c.reps; rep++ {
		w, err := inproc.NewWorld(inproc.Config{Ranks: c.ranks})
		if err != nil {
			return err
		}
		res := make([]rankResult, c.ranks)
		errs := make([]error, c.ranks)
		var wg sync.WaitGroup
		for r := 0; r < c.ranks; r++ {
			wg.Add(1)
			go func(r int) {
				defer wg.Done()
				ep := w.Endpoint(r)
				var pp float64
				if c.shape == "chain" && c.ranks > 1 && r < 2 {
					pp, errs[r] = pingPongInproc(ep, c.pingIters)
					if errs[r] != nil {
						return
					}
				}
				res[r], errs[r] = measure(c, ep)
				res[r].pp = pp
			}(r)
		}
		wg.Wait()
		for r, err := range errs {
			if err != nil {
				return fmt.Errorf("rank %d: %w", r, err)
			}
		}
		report(c, rep, res)
	}
	return nil
}

func runMPI(c config) error {
	if err := mpi.Init(); err != nil {
		return err
	}
	defer mpi.Finalize()
	world := mpi.World()
	c.ranks = world.Size()
	if c.cpuprof != "" && world.Rank() == 0 {
		stop, err := startProfile(c.cpuprof)
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.shape == "skip" && c.ranks < 2 {
		return errors.New("-shape skip needs at least 2 ranks")
	}
	for rep := 0; rep < c.reps; rep++ {
		var pp, cpp, chop float64
		if c.shape == "chain" && c.ranks > 1 {
			var err error
			if pp, err = pingPongMPI(world, c.pingIters); err != nil {
				return err
			}
			if cpp, chop, err = cReference(c.pingIters, c.recvs); err != nil {
				return err
			}
		}
		name := c.transport
		switch name {
		case "mpi":
			name = "p2p"
		case "collective":
			name = "p2p" // with the runtime's broadcast trees (measure)
		}
		tr, err := mux.New(world, name)
		if err != nil {
			return err
		}
		mine, err := measure(c, tr)
		if err != nil {
			return err
		}
		if err := tr.Close(); err != nil {
			return err
		}
		mine.pp, mine.cpp, mine.chop = pp, cpp, chop
		if c.shape == "chain" && c.ranks > 1 {
			after, err := pingPongMPI(world, c.pingIters)
			if err != nil {
				return err
			}
			mine.ppB, mine.ppA, mine.pp = pp, after, (pp+after)/2
		}
		// Gather every rank's numbers on all ranks.
		all := make([]float64, 4*c.ranks)
		if err := mpi.Allgather(world, []float64{mine.seconds, float64(mine.tasks), mine.pp, mine.submit}, all); err != nil {
			return err
		}
		res := make([]rankResult, c.ranks)
		for r := range res {
			res[r] = rankResult{seconds: all[4*r], tasks: int(all[4*r+1]), pp: all[4*r+2], submit: all[4*r+3], cpp: cpp, chop: chop}
		}
		res[world.Rank()].ppB, res[world.Rank()].ppA = mine.ppB, mine.ppA
		if world.Rank() == 0 {
			report(c, rep, res)
		}
	}
	return nil
}

// measure builds a Runtime over tr, runs the shape and returns this rank's
// time.
func measure(c config, tr dagmpi.Transport) (rankResult, error) {
	opts := []dagmpi.Option{dagmpi.WithWorkers(c.workers), dagmpi.WithWatchdog(time.Minute), dagmpi.WithSpin(c.spin), dagmpi.WithMaxRecvsPosted(c.recvs),
		dagmpi.WithInline(c.inline)}
	if c.locked {
		opts = append(opts, dagmpi.WithLockedThread())
	}
	if c.pending > 0 {
		opts = append(opts, dagmpi.WithMaxPending(c.pending))
	}
	if c.transport == "collective" {
		opts = append(opts, dagmpi.WithBroadcastTree())
	}
	rt, err := dagmpi.New(tr, opts...)
	if err != nil {
		return rankResult{}, err
	}
	res, err := shape(c, rt)
	if cerr := rt.Close(); err == nil {
		err = cerr
	}
	return res, err
}

func nop(*dagmpi.Task) error { return nil }

func incr(x *dagmpi.Data[float64]) func(*dagmpi.Task) error {
	return func(t *dagmpi.Task) error { x.Buf(t)[0]++; return nil }
}

func shape(c config, rt *dagmpi.Runtime) (rankResult, error) {
	P, me := rt.Size(), rt.Rank()
	var (
		start func() error // submits; with the Wait after it, the measured part
		count = c.tasks
	)
	switch c.shape {
	case "empty":
		start = func() error {
			for i := 0; i < c.tasks; i++ {
				if err := rt.Submit(nop, dagmpi.OnRank(i%P)); err != nil {
					return err
				}
			}
			return nil
		}
	case "chain":
		x, err := dagmpi.NewData(rt, 1, 0, initIf(me == 0, 1))
		if err != nil {
			return rankResult{}, err
		}
		body := incr(x)
		start = func() error {
			for i := 0; i < c.tasks; i++ {
				if err := rt.Submit(body, x.ReadWrite(), dagmpi.OnRank(i%P)); err != nil {
					return err
				}
			}
			return nil
		}
	case "bcast":
		// One Data of -bytes written on rank 0 and read on every other
		// rank, -tasks/P times: a broadcast per round.
		x, err := dagmpi.NewData[float64](rt, max(1, c.bytes/8), 0, nil)
		if err != nil {
			return rankResult{}, err
		}
		rounds := max(1, c.tasks/P)
		count = rounds
		start = func() error {
			for r := 0; r < rounds; r++ {
				if err := rt.Submit(incr(x), x.ReadWrite(), dagmpi.OnRank(0)); err != nil {
					return err
				}
				for k := 1; k < P; k++ {
					if err := rt.Submit(nop, x.Read(), dagmpi.OnRank(k)); err != nil {
						return err
					}
				}
			}
			return nil
		}
	case "fanout", "fanin":
		width := 8 * P
		outs := make([]*dagmpi.Data[float64], width)
		for i := range outs {
			var err error
			if outs[i], err = dagmpi.NewData(rt, 1, i%P, initIf(me == i%P, 0)); err != nil {
				return rankResult{}, err
			}
		}
		root, err := dagmpi.NewData(rt, 1, 0, initIf(me == 0, 0))
		if err != nil {
			return rankResult{}, err
		}
		rounds := max(1, c.tasks/(width+1))
		if c.shape == "fanin" {
			rounds = max(1, c.tasks/(width+P))
		}
		rootBody := incr(root)
		count = 0
		args := make([]dagmpi.Arg, 0, 10)
		start = func() error {
			for r := 0; r < rounds; r++ {
				if c.shape == "fanout" {
					if err := rt.Submit(rootBody, root.ReadWrite()); err != nil {
						return err
					}
					for i := range outs {
						if err := rt.Submit(nop, root.Read(), outs[i].ReadWrite()); err != nil {
							return err
						}
					}
					count += 1 + width
					continue
				}
				for i := range outs {
					if err := rt.Submit(nop, outs[i].ReadWrite()); err != nil {
						return err
					}
				}
				for g := 0; g < width; g += 8 {
					args = append(args[:0], root.ReadWrite())
					for i := g; i < g+8; i++ {
						args = append(args, outs[i].Read())
					}
					if err := rt.Submit(nop, args...); err != nil {
						return err
					}
				}
				count += width + width/8
			}
			return nil
		}
	case "wavefront":
		n := max(2, int(math.Sqrt(float64(c.tasks))))
		tiles := make([]*dagmpi.Data[float64], n*n)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				o := (i + j) % P
				var err error
				if tiles[i*n+j], err = dagmpi.NewData(rt, 1, o, initIf(me == o, 0)); err != nil {
					return rankResult{}, err
				}
			}
		}
		count = n * n
		args := make([]dagmpi.Arg, 0, 3)
		start = func() error {
			for i := 0; i < n; i++ {
				for j := 0; j < n; j++ {
					args = append(args[:0], tiles[i*n+j].ReadWrite())
					if i > 0 {
						args = append(args, tiles[(i-1)*n+j].Read())
					}
					if j > 0 {
						args = append(args, tiles[i*n+j-1].Read())
					}
					if err := rt.Submit(nop, args...); err != nil {
						return err
					}
				}
			}
			return nil
		}
	case "skip":
		last := P - 1
		x, err := dagmpi.NewData(rt, 1, last, initIf(me == last, 0))
		if err != nil {
			return rankResult{}, err
		}
		y, err := dagmpi.NewData(rt, 1, last, initIf(me == last, 0))
		if err != nil {
			return rankResult{}, err
		}
		start = func() error {
			for i := 0; i < c.tasks; i++ {
				if err := rt.Submit(nop, x.Read(), y.ReadWrite()); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := rt.Wait(); err != nil { // collective: everyone starts together
		return rankResult{}, err
	}
	t0 := time.Now()
	if err := start(); err != nil {
		return rankResult{}, err
	}
	sub := time.Since(t0).Seconds()
	if c.shape == "skip" {
		// The metadata path: no Wait in the measured part.
		return rankResult{seconds: sub, submit: sub, tasks: count}, rt.Wait()
	}
	if err := rt.Wait(); err != nil {
		return rankResult{}, err
	}
	return rankResult{seconds: time.Since(t0).Seconds(), submit: sub, tasks: count}, nil
}

func initIf(home bool, v float64) []float64 {
	if !home {
		return nil
	}
	return []float64{v}
}

// report prints the result of one repetition.
func report(c config, rep int, res []rankResult) {
	r := result{Shape: c.shape, Transport: c.transport, Ranks: c.ranks, Workers: c.workers, Rep: rep,
		GoMaxProcs: runtime.GOMAXPROCS(0)}
	if c.shape == "skip" {
		// The ranks that take no part: the slowest of them.
		for _, x := range res[:len(res)-1] {
			r.Seconds = max(r.Seconds, x.seconds)
		}
		r.Tasks = res[0].tasks
	} else {
		for _, x := range res {
			r.Seconds = max(r.Seconds, x.seconds)
		}
		r.Tasks = res[0].tasks
	}
	after, counted := 0.0, res
	if c.shape == "skip" {
		counted = res[:len(res)-1]
	}
	for _, x := range counted {
		r.SubmitS = max(r.SubmitS, x.submit)
		after = max(after, x.seconds-x.submit)
	}
	r.TasksPerS = float64(r.Tasks) / r.Seconds
	r.USPerTask = r.Seconds / float64(r.Tasks) * 1e6
	if c.shape == "chain" && c.ranks > 1 {
		r.PingPongUS = res[0].pp
		r.PingPongBeforeUS, r.PingPongAfterUS = res[0].ppB, res[0].ppA
		r.RatioToPP = r.USPerTask / r.PingPongUS
		r.HopUS = after / float64(r.Tasks) * 1e6
		r.HopToPP = r.HopUS / r.PingPongUS
		if res[0].chop > 0 {
			r.CPingPongUS, r.CHopUS = res[0].cpp, res[0].chop
			r.HopToCHop = r.HopUS / r.CHopUS
		}
	}
	if c.jsonOut {
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
		return
	}
	if rep == 0 {
		fmt.Printf("# %-9s %-9s %5s %7s %10s %10s %10s %14s %10s %10s %10s\n", "shape", "transport", "ranks", "workers", "tasks", "seconds", "submit", "tasks/s", "us/task", "pingpong", "us/hop")
	}
	pp, hop := "-", "-"
	if r.PingPongUS > 0 {
		pp = fmt.Sprintf("%.2fus", r.PingPongUS)
		hop = fmt.Sprintf("%.3f", r.HopUS)
	}
	fmt.Printf("  %-9s %-9s %5d %7d %10d %10.4f %10.4f %14.0f %10.3f %10s %10s\n", r.Shape, r.Transport, r.Ranks, r.Workers, r.Tasks, r.Seconds, r.SubmitS, r.TasksPerS, r.USPerTask, pp, hop)
	if r.CHopUS > 0 {
		fmt.Printf("  # C reference, one way: blocking ping-pong %.3f us, asynchronous hop %.3f us; us/hop / C hop = %.2f\n", r.CPingPongUS, r.CHopUS, r.HopToCHop)
	}
}

// pingPongInproc measures half the round trip of an 8-byte message between
// ranks 0 and 1 of the in-process transport, polling Progress.
func pingPongInproc(ep *inproc.Endpoint, iters int) (float64, error) {
	me := ep.Rank()
	peer := 1 - me
	buf := make([]byte, 8)
	var done []dagmpi.Completion
	wait := func(id uint64) error {
		for {
			var err error
			done, err = ep.Progress(done[:0])
			if err != nil {
				return err
			}
			for _, c := range done {
				if c.ID == id {
					return nil
				}
			}
			runtime.Gosched()
		}
	}
	// Sends complete when matched, so wait on both.
	var t0 time.Time
	for i := -100; i < iters; i++ {
		if i == 0 {
			t0 = time.Now()
		}
		if me == 0 {
			if err := ep.Send(buf, peer, 0, 1); err != nil {
				return 0, err
			}
			if err := ep.Recv(buf, peer, 0, 2); err != nil {
				return 0, err
			}
			if err := waitBoth(ep, wait, &done); err != nil {
				return 0, err
			}
		} else {
			if err := ep.Recv(buf, peer, 0, 2); err != nil {
				return 0, err
			}
			if err := wait(2); err != nil {
				return 0, err
			}
			if err := ep.Send(buf, peer, 0, 1); err != nil {
				return 0, err
			}
			if err := wait(1); err != nil {
				return 0, err
			}
		}
	}
	return time.Since(t0).Seconds() / float64(iters) / 2 * 1e6, nil
}

func waitBoth(ep *inproc.Endpoint, _ func(uint64) error, done *[]dagmpi.Completion) error {
	seen := 0
	for seen < 2 {
		var err error
		*done, err = ep.Progress((*done)[:0])
		if err != nil {
			return err
		}
		seen += len(*done)
		if len(*done) == 0 {
			runtime.Gosched()
		}
	}
	return nil
}

// pingPongMPI measures half the round trip of an 8-byte message between
// ranks 0 and 1 with blocking MPI calls (other ranks skip it).
func pingPongMPI(w *mpi.Comm, iters int) (float64, error) {
	me := w.Rank()
	buf := make([]byte, 8)
	var t0 time.Time
	if me < 2 {
		peer := 1 - me
		for i := -100; i < iters; i++ {
			if i == 0 {
				t0 = time.Now()
			}
			if me == 0 {
				if err := mpi.Send(w, buf, peer, 7); err != nil {
					return 0, err
				}
				if _, err := mpi.Recv(w, buf, peer, 7); err != nil {
					return 0, err
				}
			} else {
				if _, err := mpi.Recv(w, buf, peer, 7); err != nil {
					return 0, err
				}
				if err := mpi.Send(w, buf, peer, 7); err != nil {
					return 0, err
				}
			}
		}
	}
	d := time.Since(t0).Seconds() / float64(iters) / 2 * 1e6
	if err := mpi.Barrier(w); err != nil {
		return 0, err
	}
	return d, nil
}

func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
