package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTran checks C = beta C + alpha Aᵀ entry by entry (one multiply and
// one fused add: within 2 ulps of the exact value), the beta = 0 rule (C is
// not read: a NaN there does not survive) and the padding.
func TestTran(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, mn := range sizes {
		m, n := mn[0], mn[1]
		for _, ab := range [][2]float64{{1, 0}, {-2.5, 0}, {1, 1}, {0.5, -3}, {0, 2}} {
			alpha, beta := ab[0], ab[1]
			what := fmt.Sprintf("Tran(%d, %d, alpha %v, beta %v)", m, n, alpha, beta)
			a, c := newArray(rng, m, n), newArray(rng, n, m)
			if beta == 0 {
				for j := 0; j < m; j++ {
					for i := 0; i < n; i++ {
						c.set(i, j, math.NaN())
					}
				}
			}
			want := c.clone()
			for j := 0; j < m; j++ {
				for i := 0; i < n; i++ {
					v := alpha * a.at(j, i)
					if beta != 0 {
						v += beta * c.at(i, j)
					}
					want.set(i, j, v)
				}
			}
			Tran(m, n, alpha, a.a, a.ld, beta, c.a, c.ld)
			compare(t, what, c, want, 2*eps*8, nil)
		}
	}
	for name, f := range map[string]func(){
		"short A":  func() { Tran(2, 3, 1, make([]float64, 5), 2, 0, make([]float64, 6), 3) },
		"ldc":      func() { Tran(2, 3, 1, make([]float64, 6), 2, 0, make([]float64, 6), 2) },
		"negative": func() { Tran(-1, 3, 1, nil, 1, 0, nil, 3) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Tran %s: no panic", name)
				}
			}()
			f()
		}()
	}
}
