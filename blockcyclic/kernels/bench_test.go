package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// Benchmarks report GFLOP/s of one OpenBLAS thread (the package default).
// Compare kernel sets with
//
//	OPENBLAS_CORETYPE=Haswell  go test -run '^$' -bench . ./blockcyclic/kernels
//	OPENBLAS_CORETYPE=SkylakeX go test -run '^$' -bench . ./blockcyclic/kernels

func randSlice(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	a := make([]float64, n)
	for i := range a {
		a[i] = rng.Float64() - 0.5
	}
	return a
}

func report(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkDgemm(b *testing.B) {
	b.Logf("%s", CoreReport())
	for _, nb := range []int{128, 256, 512} {
		b.Run(fmt.Sprintf("nb=%d", nb), func(b *testing.B) {
			x, y, z := randSlice(nb*nb), randSlice(nb*nb), randSlice(nb*nb)
			for b.Loop() {
				Gemm(blas.NoTrans, blas.Trans, nb, nb, nb, -1, x, nb, y, nb, 1, z, nb)
			}
			report(b, 2*float64(nb)*float64(nb)*float64(nb))
		})
	}
}

const benchNB = 256

func BenchmarkSyrk(b *testing.B) {
	n := benchNB
	a, c := randSlice(n*n), randSlice(n*n)
	for b.Loop() {
		Syrk(blas.Lower, blas.NoTrans, n, n, -1, a, n, 1, c, n)
	}
	report(b, float64(n)*float64(n)*float64(n))
}

func BenchmarkTrsm(b *testing.B) {
	n := benchNB
	a, x := randSlice(n*n), randSlice(n*n)
	for i := 0; i < n; i++ {
		a[i+i*n] = float64(n)
	}
	x0 := append([]float64(nil), x...)
	// The task graph's panel solve: X Lᵀ = B. B is restored each time:
	// solving again and again would shrink it into subnormal numbers,
	// which are slow.
	for b.Loop() {
		b.StopTimer()
		copy(x, x0)
		b.StartTimer()
		Trsm(blas.Right, blas.Lower, blas.Trans, blas.NonUnit, n, n, 1, a, n, x, n)
	}
	report(b, float64(n)*float64(n)*float64(n))
}

// BenchmarkTrmm is the product with an inverted diagonal tile that can
// replace BenchmarkTrsm's solve (see Trtri).
func BenchmarkTrmm(b *testing.B) {
	n := benchNB
	a, x := randSlice(n*n), randSlice(n*n)
	x0 := append([]float64(nil), x...)
	for b.Loop() {
		b.StopTimer()
		copy(x, x0) // as in BenchmarkTrsm: keep B from overflowing
		b.StartTimer()
		Trmm(blas.Right, blas.Lower, blas.Trans, blas.NonUnit, n, n, 1, a, n, x, n)
	}
	report(b, float64(n)*float64(n)*float64(n))
}

func BenchmarkTrtri(b *testing.B) {
	n := benchNB
	a := randSlice(n * n)
	for i := 0; i < n; i++ {
		a[i+i*n] = float64(n)
	}
	w := make([]float64, n*n)
	for b.Loop() {
		b.StopTimer()
		copy(w, a)
		b.StartTimer()
		if err := Trtri(blas.Lower, blas.NonUnit, n, w, n); err != nil {
			b.Fatal(err)
		}
	}
	report(b, float64(n)*float64(n)*float64(n)/3)
}

func BenchmarkPotrf(b *testing.B) {
	n := benchNB
	g := randSlice(n * n)
	spd := make([]float64, n*n)
	Gemm(blas.NoTrans, blas.Trans, n, n, n, 1, g, n, g, n, 0, spd, n)
	for i := 0; i < n; i++ {
		spd[i+i*n] += float64(n)
	}
	a := make([]float64, n*n)
	for _, impl := range []struct {
		name string
		f    func(blas.Uplo, int, []float64, int) error
	}{{"lapack", Potrf}, {"gonum", PotrfGonum}} {
		b.Run(impl.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				copy(a, spd)
				b.StartTimer()
				if err := impl.f(blas.Lower, n, a, n); err != nil {
					b.Fatal(err)
				}
			}
			report(b, float64(n)*float64(n)*float64(n)/3)
		})
	}
}
