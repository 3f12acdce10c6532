package main

import (
	"time"

	"github.com/spmd-go/spmd/mpi"
)

// Tags of the point-to-point tests; cref.go uses the same values.
const (
	tagData = 1
	tagAck  = 2
)

// goLatency runs the ping-pong between ranks 0 and 1: rank 0 sends size
// bytes and waits for them to come back, rank 1 receives and sends back,
// both with blocking Send and Recv. It returns the seconds spent in the
// timed iterations (after skip warm-up ones) on this rank. Ranks other than 0
// and 1 only run the clock. The C twin is ref_latency in cref.go.
func goLatency(c *mpi.Comm, rank int, s, r []byte, size, iters, skip int) (float64, error) {
	s, r = s[:size], r[:size]
	var t0 time.Time
	for i := 0; i < iters+skip; i++ {
		if i == skip {
			t0 = time.Now()
		}
		if rank == 0 {
			if err := mpi.Send(c, s, 1, tagData); err != nil {
				return 0, err
			}
			if _, err := mpi.Recv(c, r, 1, tagData); err != nil {
				return 0, err
			}
		} else if rank == 1 {
			if _, err := mpi.Recv(c, r, 0, tagData); err != nil {
				return 0, err
			}
			if err := mpi.Send(c, s, 0, tagData); err != nil {
				return 0, err
			}
		}
	}
	return time.Since(t0).Seconds(), nil
}

// goBandwidth streams windows of window nonblocking sends of size bytes from
// rank 0 to rank 1 (Isend x window, then Waitall); rank 1 posts window
// Irecvs, waits for them all and answers with a 4-byte ack, so each
// iteration ends when the window has arrived. With bidir both ranks post
// window Irecvs then window Isends and wait for all 2*window requests, with
// no ack. reqs has room for 2*window requests. It returns the seconds spent
// in the timed iterations. The C twin is ref_bw in cref.go.
func goBandwidth(c *mpi.Comm, rank int, bidir bool, s, r, ack []byte, size, window, iters, skip int, reqs []mpi.Request) (float64, error) {
	s, r = s[:size], r[:size]
	peer := 1 - rank
	var t0 time.Time
	var err error
	for i := 0; i < iters+skip; i++ {
		if i == skip {
			t0 = time.Now()
		}
		if bidir {
			for j := 0; j < window; j++ {
				if reqs[j], err = mpi.Irecv(c, r, peer, tagData); err != nil {
					return 0, err
				}
			}
			for j := 0; j < window; j++ {
				if reqs[window+j], err = mpi.Isend(c, s, peer, tagData); err != nil {
					return 0, err
				}
			}
			if err := mpi.Waitall(reqs[:2*window], nil); err != nil {
				return 0, err
			}
		} else if rank == 0 {
			for j := 0; j < window; j++ {
				if reqs[j], err = mpi.Isend(c, s, 1, tagData); err != nil {
					return 0, err
				}
			}
			if err := mpi.Waitall(reqs[:window], nil); err != nil {
				return 0, err
			}
			if _, err := mpi.Recv(c, ack, 1, tagAck); err != nil {
				return 0, err
			}
		} else {
			for j := 0; j < window; j++ {
				if reqs[j], err = mpi.Irecv(c, r, 0, tagData); err != nil {
					return 0, err
				}
			}
			if err := mpi.Waitall(reqs[:window], nil); err != nil {
				return 0, err
			}
			if err := mpi.Send(c, ack, 0, tagAck); err != nil {
				return 0, err
			}
		}
	}
	return time.Since(t0).Seconds(), nil
}
