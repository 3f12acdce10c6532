// Command pingpong is the first spmd demo: every rank checks an allreduce and
// a ring exchange, then ranks 0 and 1 measure ping-pong latency and
// bandwidth through the mpi binding. It exits non-zero if any value is wrong.
//
//	mpirun -np 2 ./pingpong [-iters 10000] [-json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/spmd-go/spmd/mpi"
)

func main() {
	iters := flag.Int("iters", 10000, "ping-pong round trips per size (the same on every rank)")
	asJSON := flag.Bool("json", false, "print one JSON object per result on rank 0")
	flag.Parse()
	if err := mpi.Init(); err != nil {
		fmt.Fprintln(os.Stderr, "pingpong:", err)
		os.Exit(1)
	}
	w := mpi.World()
	fail := func(format string, args ...any) {
		mpi.Abort(w, 1, fmt.Sprintf(format, args...))
	}
	r, p := w.Rank(), w.Size()

	// Allreduce: the sum of 1..p.
	sum := []float64{0}
	if err := mpi.Allreduce(w, []float64{float64(r + 1)}, sum, mpi.Sum); err != nil {
		fail("allreduce: %v", err)
	}
	if want := float64(p * (p + 1) / 2); sum[0] != want {
		fail("allreduce: got %v, want %v", sum[0], want)
	}
	// Ring: each rank passes its rank to the next.
	got := []int32{-1}
	if _, err := mpi.Sendrecv(w, []int32{int32(r)}, (r+1)%p, 0, got, (r+p-1)%p, 0); err != nil {
		fail("ring: %v", err)
	}
	if got[0] != int32((r+p-1)%p) {
		fail("ring: rank %d got %d from its left neighbour", r, got[0])
	}
	out := func(kind string, size int, value float64, unit string) {
		if r != 0 {
			return
		}
		if *asJSON {
			b, _ := json.Marshal(map[string]any{"test": kind, "size": size, "value": value, "unit": unit, "ranks": p})
			fmt.Println(string(b))
			return
		}
		fmt.Printf("%-10s %10d bytes %12.2f %s\n", kind, size, value, unit)
	}
	if r == 0 && !*asJSON {
		fmt.Printf("spmd pingpong on %d ranks (%s, %s)\n", p, mpi.Implementation, mpi.Provided())
		fmt.Printf("allreduce sum 1..%d = %v, ring exchange ok\n", p, sum[0])
	}
	if p < 2 {
		if r == 0 && !*asJSON {
			fmt.Println("one rank: no ping-pong")
		}
		mpi.Finalize()
		return
	}
	for _, size := range []int{8, 1024, 65536, 1 << 20} {
		buf := make([]byte, size)
		n := *iters
		if size >= 65536 {
			n = max(1, n/100)
		}
		mpi.Barrier(w)
		t0 := mpi.Wtime()
		for i := range n {
			switch r {
			case 0:
				buf[0] = byte(i)
				if err := mpi.Send(w, buf, 1, 1); err != nil {
					fail("send: %v", err)
				}
				if _, err := mpi.Recv(w, buf, 1, 1); err != nil {
					fail("recv: %v", err)
				}
				if buf[0] != byte(i+1) {
					fail("ping-pong: round %d came back as %d", i, buf[0])
				}
			case 1:
				if _, err := mpi.Recv(w, buf, 0, 1); err != nil {
					fail("recv: %v", err)
				}
				buf[0]++
				if err := mpi.Send(w, buf, 0, 1); err != nil {
					fail("send: %v", err)
				}
			}
		}
		dt := mpi.Wtime() - t0
		oneWay := dt / float64(2*n)
		out("latency", size, oneWay*1e6, "us")
		out("bandwidth", size, float64(size)/oneWay/1e6, "MB/s")
	}
	if err := mpi.Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, "pingpong:", err)
		os.Exit(1)
	}
}
