package kernels

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// The QR kernels' rates count the flops of tile QR's model (Buttari et
// al.): GEQRT 4/3 nb³, TSQRT 2 nb³, GEMQRT 2 nb³, TSMQRT 4 nb³ (the T
// factors' extra work, of relative size ib/nb, is not counted), so a rate
// below DGEMM's includes that overhead. Compare with BenchmarkDgemm:
//
//	go test -run '^$' -bench 'Dgemm|QR' ./blockcyclic/kernels

var qrBenchSizes = [][2]int{{256, 32}, {256, 64}, {384, 32}, {384, 48}, {384, 96}}

func BenchmarkQRGeqrt(b *testing.B) {
	for _, s := range qrBenchSizes {
		nb, ib := s[0], s[1]
		b.Run(fmt.Sprintf("nb=%d/ib=%d", nb, ib), func(b *testing.B) {
			a0, t := randSlice(nb*nb), make([]float64, ib*nb)
			a := make([]float64, nb*nb)
			for b.Loop() {
				copy(a, a0)
				Geqrt(nb, nb, ib, a, nb, t, ib)
			}
			report(b, 4.0/3*float64(nb*nb*nb))
		})
	}
}

func BenchmarkQRTsqrt(b *testing.B) {
	for _, s := range qrBenchSizes {
		nb, ib := s[0], s[1]
		b.Run(fmt.Sprintf("nb=%d/ib=%d", nb, ib), func(b *testing.B) {
			r0, b0, t := randSlice(nb*nb), randSlice(nb*nb), make([]float64, ib*nb)
			r, bb := make([]float64, nb*nb), make([]float64, nb*nb)
			for b.Loop() {
				copy(r, r0)
				copy(bb, b0)
				Tpqrt(nb, nb, 0, ib, r, nb, bb, nb, t, ib)
			}
			report(b, 2*float64(nb*nb*nb))
		})
	}
}

func BenchmarkQRGemqrt(b *testing.B) {
	for _, s := range qrBenchSizes {
		nb, ib := s[0], s[1]
		b.Run(fmt.Sprintf("nb=%d/ib=%d", nb, ib), func(b *testing.B) {
			v, t := randSlice(nb*nb), make([]float64, ib*nb)
			Geqrt(nb, nb, ib, v, nb, t, ib)
			c := randSlice(nb * nb)
			for b.Loop() {
				Gemqrt(blas.Left, blas.Trans, nb, nb, nb, ib, v, nb, t, ib, c, nb)
			}
			report(b, 2*float64(nb*nb*nb))
		})
	}
}

func BenchmarkQRTsmqr(b *testing.B) {
	for _, s := range qrBenchSizes {
		nb, ib := s[0], s[1]
		b.Run(fmt.Sprintf("nb=%d/ib=%d", nb, ib), func(b *testing.B) {
			r, v, t := randSlice(nb*nb), randSlice(nb*nb), make([]float64, ib*nb)
			Tpqrt(nb, nb, 0, ib, r, nb, v, nb, t, ib)
			a, c := randSlice(nb*nb), randSlice(nb*nb)
			for b.Loop() {
				Tpmqrt(blas.Left, blas.Trans, nb, nb, nb, 0, ib, v, nb, t, ib, a, nb, c, nb)
			}
			report(b, 4*float64(nb*nb*nb))
		})
	}
}
