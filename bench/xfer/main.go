// Command xfer measures the one-way latency of moving a message between
// two ranks through each dagmpi transport and through the raw MPI calls
// under it, in the same job, so their ratios can be compared:
//
//	mpirun -np 2 ./xfer -m 8:1048576
//
// Columns (microseconds, one way, medians of -reps repetitions):
//
//	mpi-sendrecv  raw MPI_Send/MPI_Recv ping-pong, half the round trip
//	mpi-put       raw MPI_Put + MPI_Win_flush on an MPI_Win_allocate window,
//	              per operation (origin-side completion; the target learns
//	              nothing)
//	put-notify    raw one-sided message ping-pong: MPI_Put of the data,
//	              flush, MPI_Put of a flag word, flush; the target spins on
//	              MPI_Win_sync until the flag changes, then answers the same
//	              way (the least a one-sided message can cost: the floor of
//	              the onesided column)
//	p2p           dagmpi/p2p Transport ping-pong (Isend/Irecv/Testsome)
//	onesided      dagmpi/onesided Transport ping-pong (put + notification)
//
// With -json, one object per size on rank 0.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/mux"
	"github.com/spmd-go/spmd/dagmpi/onesided"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/mpi"
	"github.com/spmd-go/spmd/rma"
)

type config struct {
	min, max int
	iters    int
	reps     int
	json     bool
	slot     int
	only     string
	cpuprof  string
}

type result struct {
	Size        int     `json:"size"`
	Ranks       int     `json:"ranks"`
	MPISendRecv float64 `json:"mpi_sendrecv_us"`
	MPIPut      float64 `json:"mpi_put_us"`
	PutNotify   float64 `json:"put_notify_us"`
	P2P         float64 `json:"p2p_us"`
	OneSided    float64 `json:"onesided_us"`
	Iterations  int     `json:"iterations"`
}

func main() {
	var c config
	sizes := flag.String("m", "8:1048576", "message sizes min:max in bytes (powers of two in between)")
	flag.IntVar(&c.iters, "iters", 0, "iterations per measurement (default: by size)")
	flag.IntVar(&c.reps, "reps", 5, "repetitions; medians are reported")
	flag.BoolVar(&c.json, "json", false, "one JSON object per size on rank 0")
	flag.IntVar(&c.slot, "slot", onesided.DefaultConfig.SlotBytes, "onesided slot bytes")
	flag.StringVar(&c.only, "only", "", "run only this column (mpi-sendrecv, mpi-put, put-notify, p2p, onesided)")
	flag.StringVar(&c.cpuprof, "cpuprofile", "", "write rank 0's CPU profile to this file")
	flag.Parse()
	var err error
	if c.min, c.max, err = parseRange(*sizes); err != nil {
		fmt.Fprintln(os.Stderr, "xfer:", err)
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "xfer:", err)
		os.Exit(1)
	}
}

func parseRange(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		b = a
	}
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || lo < 1 || hi < lo {
		return 0, 0, fmt.Errorf("-m %q: want MIN:MAX with 1 <= MIN <= MAX", s)
	}
	return lo, hi, nil
}

func run(c config) error {
	if err := mpi.Init(); err != nil {
		return err
	}
	defer mpi.Finalize()
	w := mpi.World()
	if w.Size() != 2 {
		return fmt.Errorf("run on 2 ranks (mpirun -np 2), not %d", w.Size())
	}
	me := w.Rank()
	if c.cpuprof != "" && me == 0 {
		f, err := os.Create(c.cpuprof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	on := func(col string) bool { return c.only == "" || c.only == col }
	ptr, err := p2p.New(w)
	if err != nil {
		return err
	}
	defer ptr.Close()
	ost, err := onesided.NewConfig(w, onesided.Config{SlotBytes: c.slot, Slots: onesided.DefaultConfig.Slots})
	if err != nil {
		return err
	}
	defer ost.Close()
	win, err := rma.Allocate[byte](w, c.max+8)
	if err != nil {
		return err
	}
	defer win.Free()
	if err := win.LockAll(); err != nil {
		return err
	}
	defer win.UnlockAll()

	if me == 0 && !c.json {
		fmt.Printf("# spmd xfer: one-way latency (us), 2 ranks, medians of %d\n", c.reps)
		fmt.Printf("%-10s%14s%14s%14s%14s%14s\n", "# Size", "mpi-sendrecv", "mpi-put", "put-notify", "p2p", "onesided")
	}
	buf := make([]byte, c.max)
	rbuf := make([]byte, c.max)
	for size := c.min; size <= c.max; size *= 2 {
		iters := c.iters
		if iters == 0 {
			iters = max(50, min(5000, (64<<20)/size))
		}
		var sr, put, pn, pp, os1 []float64
		for rep := 0; rep < c.reps; rep++ {
			if err := mpi.Barrier(w); err != nil {
				return err
			}
			var t float64
			var err error
			if on("mpi-sendrecv") {
				if t, err = sendrecv(w, buf[:size], rbuf[:size], iters); err != nil {
					return err
				}
				sr = append(sr, t)
			}
			if on("mpi-put") {
				if t, err = putFlush(w, win, buf[:size], iters); err != nil {
					return err
				}
				put = append(put, t)
			}
			if on("put-notify") {
				if t, err = putNotify(w, win, buf[:size], c.max, iters); err != nil {
					return err
				}
				pn = append(pn, t)
			}
			if on("p2p") {
				if t, err = transportPingPong(w, ptr, buf[:size], rbuf[:size], iters); err != nil {
					return fmt.Errorf("p2p: %w", err)
				}
				pp = append(pp, t)
			}
			if on("onesided") {
				if t, err = transportPingPong(w, ost, buf[:size], rbuf[:size], iters); err != nil {
					return fmt.Errorf("onesided: %w", err)
				}
				os1 = append(os1, t)
			}
		}
		r := result{Size: size, Ranks: 2, MPISendRecv: median(sr), MPIPut: median(put), PutNotify: median(pn), P2P: median(pp), OneSided: median(os1), Iterations: iters}
		if me != 0 {
			continue
		}
		if c.json {
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
		} else {
			fmt.Printf("%-10d%14.2f%14.2f%14.2f%14.2f%14.2f\n", size, r.MPISendRecv, r.MPIPut, r.PutNotify, r.P2P, r.OneSided)
		}
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// sendrecv is the raw ping-pong: one-way microseconds.
func sendrecv(w *mpi.Comm, buf, rbuf []byte, iters int) (float64, error) {
	me := w.Rank()
	t0 := mpi.Wtime()
	for i := 0; i < iters; i++ {
		if me == 0 {
			if err := mpi.Send(w, buf, 1, 1); err != nil {
				return 0, err
			}
			if _, err := mpi.Recv(w, rbuf, 1, 1); err != nil {
				return 0, err
			}
		} else {
			if _, err := mpi.Recv(w, rbuf, 0, 1); err != nil {
				return 0, err
			}
			if err := mpi.Send(w, buf, 0, 1); err != nil {
				return 0, err
			}
		}
	}
	return (mpi.Wtime() - t0) * 1e6 / float64(2*iters), nil
}

// putFlush is rank 0 putting to rank 1 and flushing, per operation; the
// time is shared with rank 1 by a broadcast so both ranks report it.
func putFlush(w *mpi.Comm, win *rma.Window[byte], buf []byte, iters int) (float64, error) {
	var us [1]float64
	if err := mpi.Barrier(w); err != nil {
		return 0, err
	}
	if w.Rank() == 0 {
		t0 := mpi.Wtime()
		for i := 0; i < iters; i++ {
			if err := win.Put(buf, 1, 0); err != nil {
				return 0, err
			}
			if err := win.FlushAll(); err != nil {
				return 0, err
			}
		}
		us[0] = (mpi.Wtime() - t0) * 1e6 / float64(iters)
	}
	if err := mpi.Bcast(w, us[:], 0); err != nil {
		return 0, err
	}
	return us[0], nil
}

// putNotify is the raw one-sided ping-pong: each side puts buf into the
// other's window at 0, flushes, puts the round number into the flag word at
// flag, flushes, and then spins (MPI_Win_sync, and MPI_Iprobe under MPICH)
// until its own flag word shows the answer. One-way microseconds.
func putNotify(w *mpi.Comm, win *rma.Window[byte], buf []byte, flag, iters int) (float64, error) {
	me, peer := w.Rank(), 1-w.Rank()
	mem := win.Local()
	var word [8]byte
	// Flags count rounds from where the previous call left them: start
	// from a common zero.
	clear(mem[flag : flag+8])
	if err := win.Sync(); err != nil {
		return 0, err
	}
	if err := mpi.Barrier(w); err != nil {
		return 0, err
	}
	send := func(i uint64) error {
		if err := win.Put(buf, peer, 0); err != nil {
			return err
		}
		if err := win.FlushAll(); err != nil {
			return err
		}
		binary.LittleEndian.PutUint64(word[:], i)
		if err := win.Put(word[:], peer, flag); err != nil {
			return err
		}
		return win.FlushAll()
	}
	await := func(i uint64) error {
		for {
			if mpi.Implementation == "mpich" {
				if _, _, err := mpi.Iprobe(w, mpi.AnySource, mpi.AnyTag); err != nil {
					return err
				}
			}
			if err := win.Sync(); err != nil {
				return err
			}
			if binary.LittleEndian.Uint64(mem[flag:]) == i {
				return nil
			}
		}
	}
	t0 := mpi.Wtime()
	for i := uint64(1); i <= uint64(iters); i++ {
		if me == 0 {
			if err := send(i); err != nil {
				return 0, err
			}
			if err := await(i); err != nil {
				return 0, err
			}
		} else {
			if err := await(i); err != nil {
				return 0, err
			}
			if err := send(i); err != nil {
				return 0, err
			}
		}
	}
	d := mpi.Wtime() - t0
	// Both ranks report rank 0's time.
	us := [1]float64{d * 1e6 / float64(2*iters)}
	if err := mpi.Bcast(w, us[:], 0); err != nil {
		return 0, err
	}
	return us[0], nil
}

// transportPingPong bounces a message through a dagmpi Transport, polling
// Progress hot (mux.PingPong), after a barrier: one-way microseconds.
func transportPingPong(w *mpi.Comm, tr dagmpi.Transport, buf, rbuf []byte, iters int) (float64, error) {
	if err := mpi.Barrier(w); err != nil {
		return 0, err
	}
	d, err := mux.PingPong(tr, w.Rank(), buf, rbuf, iters)
	if err != nil {
		return 0, err
	}
	return d.Seconds() * 1e6 / float64(2*iters), nil
}
