package blockcyclic

import (
	"math/rand/v2"
	"testing"
)

// TestSwapMoves checks the net row moves of an interchange step against
// applying the interchanges one by one, forward and in reverse, and the
// property the three-phase exchange relies on: a row below the block row
// only ever receives a row that started in it.
func TestSwapMoves(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 500; trial++ {
		top, np := rng.IntN(5), 1+rng.IntN(6)
		m := top + np + rng.IntN(8)
		ipiv := make([]int32, np)
		for r := range ipiv {
			ipiv[r] = int32(top + r + rng.IntN(m-top-r))
		}
		for _, reverse := range []bool{false, true} {
			rows := make([]int, m)
			for i := range rows {
				rows[i] = i
			}
			for s := range ipiv {
				r := s
				if reverse {
					r = np - 1 - s
				}
				p := int(ipiv[r])
				rows[top+r], rows[p] = rows[p], rows[top+r]
			}
			got := make([]int, m)
			for i := range got {
				got[i] = i
			}
			for _, mv := range swapMoves(ipiv, top, reverse) {
				got[mv.dest] = mv.src
				if mv.dest >= top+np && (mv.src < top || mv.src >= top+np) {
					t.Fatalf("ipiv %v top %d reverse %v: row %d receives row %d from outside the block row", ipiv, top, reverse, mv.dest, mv.src)
				}
			}
			for i := range rows {
				if got[i] != rows[i] {
					t.Fatalf("ipiv %v top %d reverse %v: row %d ends with row %d, want %d", ipiv, top, reverse, i, got[i], rows[i])
				}
			}
		}
	}
}
