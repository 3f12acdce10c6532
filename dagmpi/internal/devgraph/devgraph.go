// Package devgraph is the device task graph that the dagmpi tests run in
// process and under mpirun: tiles of device "GEMM"s on HostDevice streams,
// a reduction across ranks, and a write after read.
package devgraph

import (
	"fmt"
	"math"
	"time"

	"github.com/spmd-go/spmd/cudaaware"
	"github.com/spmd-go/spmd/dagmpi"
)

// Run submits the multi-stream device graph of the tests: tiles of
// independent device "GEMM"s (C_i = A_i * B_i, k x k, a host function on
// the HostDevice stream) and a reduction S = sum C_i on rank 0, then a
// write-after-read of every A_i. It returns S fetched on rank 0 (nil
// elsewhere) and S fetched on every rank.
func Run(rt *dagmpi.Runtime, dev *cudaaware.HostDevice, o dagmpi.DeviceOptions, tiles, k int) (s0, sAll []float64, err error) {
	pool, err := rt.AddDevice(cudaaware.DagmpiDevice(dev), o)
	if err != nil {
		return nil, nil, err
	}
	size, me := rt.Size(), rt.Rank()
	n := k * k
	var A, B, C []*dagmpi.Data[float64]
	for i := range tiles {
		home := i % size
		var a, b []float64
		if me == home {
			a, b = tileA(i, k), tileB(i, k)
		}
		da, err := dagmpi.NewDeviceData(pool, n, home, a)
		if err != nil {
			return nil, nil, err
		}
		db, err := dagmpi.NewDeviceData(pool, n, home, b)
		if err != nil {
			return nil, nil, err
		}
		dc, err := dagmpi.NewDeviceData[float64](pool, n, home, nil)
		if err != nil {
			return nil, nil, err
		}
		A, B, C = append(A, da), append(B, db), append(C, dc)
	}
	S, err := dagmpi.NewDeviceData[float64](pool, n, 0, nil)
	if err != nil {
		return nil, nil, err
	}
	for i := range tiles {
		a, b, c := A[i], B[i], C[i]
		err := rt.Submit(func(t *dagmpi.Task) error {
			ab, bb, cb := cudaaware.TaskBuffer(a, t), cudaaware.TaskBuffer(b, t), cudaaware.TaskBuffer(c, t)
			return cudaaware.LaunchHost(cudaaware.TaskStream(t), func() {
				time.Sleep(2 * time.Millisecond) // a kernel that takes a while
				av, _ := cudaaware.HostView(ab)
				bv, _ := cudaaware.HostView(bb)
				cv, _ := cudaaware.HostView(cb)
				gemm(cv, av, bv, k)
			})
		}, a.Read(), b.Read(), c.Write(), dagmpi.OnDevice(pool), dagmpi.Name(fmt.Sprintf("gemm%d", i)))
		if err != nil {
			return nil, nil, err
		}
	}
	for i := range tiles {
		c := C[i]
		err := rt.Submit(func(t *dagmpi.Task) error {
			cb, sb := cudaaware.TaskBuffer(c, t), cudaaware.TaskBuffer(S, t)
			return cudaaware.LaunchHost(cudaaware.TaskStream(t), func() {
				cv, _ := cudaaware.HostView(cb)
				sv, _ := cudaaware.HostView(sb)
				for j := range sv {
					sv[j] += cv[j]
				}
			})
		}, c.Read(), S.ReadWrite(), dagmpi.OnDevice(pool), dagmpi.Name("reduce"))
		if err != nil {
			return nil, nil, err
		}
	}
	// Write after read, on another stream: A_i gets new contents (an upload
	// of zeros) only after the GEMM that reads it.
	for i := range tiles {
		a := A[i]
		zeros := make([]float64, n)
		err := rt.Submit(func(t *dagmpi.Task) error {
			return cudaaware.TaskStream(t).CopyHtoD(cudaaware.TaskBuffer(a, t).Mem(), 0, f64bytes(zeros))
		}, a.Write(), dagmpi.OnDevice(pool), dagmpi.Name("clobber"))
		if err != nil {
			return nil, nil, err
		}
	}
	if s0, err = S.Fetch(0); err != nil {
		return nil, nil, err
	}
	if sAll, err = S.FetchAll(); err != nil {
		return nil, nil, err
	}
	a0, err := A[0].FetchAll()
	if err != nil {
		return nil, nil, err
	}
	for j, v := range a0 {
		if v != 0 {
			return nil, nil, fmt.Errorf("A_0[%d] = %v after the clobbering write, want 0", j, v)
		}
	}
	return s0, sAll, rt.Wait()
}

func tileA(i, k int) []float64 {
	a := make([]float64, k*k)
	for j := range a {
		a[j] = float64((i*7+j*3)%11) - 5
	}
	return a
}

func tileB(i, k int) []float64 {
	b := make([]float64, k*k)
	for j := range b {
		b[j] = float64((i*5+j)%13) / 4
	}
	return b
}

// gemm sets c = a * b (k x k, row-major).
func gemm(c, a, b []float64, k int) {
	for r := range k {
		for q := range k {
			s := 0.0
			for x := range k {
				s += a[r*k+x] * b[x*k+q]
			}
			c[r*k+q] = s
		}
	}
}

// Serial is the reference: sum over tiles of A_i * B_i, in tile order
// (the order the reduction tasks run in, so the sums are bit-identical).
func Serial(tiles, k int) []float64 {
	s := make([]float64, k*k)
	c := make([]float64, k*k)
	for i := range tiles {
		gemm(c, tileA(i, k), tileB(i, k), k)
		for j := range s {
			s[j] += c[j]
		}
	}
	return s
}

func f64bytes(s []float64) []byte {
	b := make([]byte, 8*len(s))
	for i, v := range s {
		u := math.Float64bits(v)
		for j := range 8 {
			b[8*i+j] = byte(u >> (8 * j))
		}
	}
	return b
}
