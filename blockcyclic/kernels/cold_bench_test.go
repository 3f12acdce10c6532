package kernels

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// BenchmarkDgemmCold runs the tile update on a different C (and A, B) tile
// each call, cycling through a pool larger than the last-level cache, as a
// factorization does.
func BenchmarkDgemmCold(b *testing.B) {
	for _, nb := range []int{384, 512, 768, 1024} {
		for _, pool := range []int{1, 96} {
			b.Run(fmt.Sprintf("nb=%d/pool=%d", nb, pool), func(b *testing.B) {
				np := pool
				if pool > 1 {
					np = max(3, (200<<20)/(nb*nb*8)) // 200 MB of tiles
				}
				ts := make([][]float64, np)
				for i := range ts {
					ts[i] = randSlice(nb * nb)
				}
				i := 0
				for b.Loop() {
					x, y, z := ts[i%np], ts[(i+1)%np], ts[(i+2)%np]
					Gemm(blas.NoTrans, blas.Trans, nb, nb, nb, -1, x, nb, y, nb, 1, z, nb)
					i += 3
				}
				report(b, 2*float64(nb)*float64(nb)*float64(nb))
			})
		}
	}
}
