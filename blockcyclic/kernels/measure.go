package kernels

import (
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/blas"
)

// MeasureDGEMM times C = A B + C on n x n column-major matrices with Gemm,
// on the calling goroutine with OpenBLAS's current thread count (one unless
// changed), and returns the rate in GFLOP/s (2 n³ flops per call). It runs
// one untimed call to warm up, then calls until at least minTime has passed
// and at least once, and reports the mean. It is local: a program that
// wants the machine's aggregate DGEMM rate lets every rank measure at once
// and sums the rates (for example with an allreduce), so the figure includes
// whatever the ranks cost each other (shared caches, memory bandwidth, turbo
// limits).
//
// n = 2048 and 1s give a figure within a few per cent of the peak a large
// DGEMM reaches; it allocates 3 n² float64s.
func MeasureDGEMM(n int, minTime time.Duration) float64 {
	if n < 1 {
		panic(errN)
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	a := make([]float64, n*n)
	b := make([]float64, n*n)
	c := make([]float64, n*n)
	for i := range a {
		a[i] = rng.Float64() - 0.5
		b[i] = rng.Float64() - 0.5
	}
	Gemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 0, c, n)
	calls := 0
	start := time.Now()
	for calls == 0 || time.Since(start) < minTime {
		// beta = 1 keeps OpenBLAS from taking a beta = 0 shortcut;
		// the small entries cannot overflow in any realistic run.
		Gemm(blas.NoTrans, blas.NoTrans, n, n, n, 1, a, n, b, n, 1, c, n)
		calls++
	}
	secs := time.Since(start).Seconds()
	return 2 * float64(n) * float64(n) * float64(n) * float64(calls) / secs / 1e9
}
