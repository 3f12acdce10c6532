// Package placement computes where the pieces of uneven work go, from
// counts every rank agrees on, so that a dynamic load-balancing policy stays
// SPMD: each rank gathers the same counts at a step boundary (for example
// with dagmpi's Data.FetchAll), calls the same deterministic function, and
// submits the same tasks with dagmpi.OnRank set from the result.
//
// Owner computes is the runtime's default placement; this package is for
// work whose size is known only at run time, as the tokens routed to each
// expert of a mixture-of-experts layer: Static keeps every item on its home
// rank, Balance cuts the heavy items so that every rank gets the mean load.
package placement

import (
	"cmp"
	"fmt"
	"slices"
)

// Chunk is the part [A, B) of item Item's work (units 0..work[Item]) placed
// on rank Rank.
type Chunk struct{ Item, Rank, A, B int }

// Len returns the units of work in the chunk.
func (c Chunk) Len() int { return c.B - c.A }

func check(work []int, p int, home func(int) int) error {
	if p < 1 {
		return fmt.Errorf("placement: %d ranks", p)
	}
	for i, w := range work {
		if w < 0 {
			return fmt.Errorf("placement: work[%d] = %d is negative", i, w)
		}
		if w > 0 {
			if h := home(i); h < 0 || h >= p {
				return fmt.Errorf("placement: home(%d) = %d is not a rank of %d", i, h, p)
			}
		}
	}
	return nil
}

// Static places every item with work whole on its home rank. The chunks
// are ordered by rank, then item.
func Static(work []int, p int, home func(item int) int) ([]Chunk, error) {
	if err := check(work, p, home); err != nil {
		return nil, err
	}
	var ch []Chunk
	for i, w := range work {
		if w > 0 {
			ch = append(ch, Chunk{Item: i, Rank: home(i), A: 0, B: w})
		}
	}
	sortChunks(ch)
	return ch, nil
}

// Balance fills the ranks up to the mean load, rounded up: items, heaviest
// first (ties by index), go whole to their home rank when it has room;
// otherwise to the least loaded rank, cut where that rank is full, the rest
// to the next least loaded. Every rank then has at most ceil(total/p) units
// and there are at most p-1 cuts in all (a cut fills a rank to the mean).
// The chunks are ordered by rank, then item, then A.
func Balance(work []int, p int, home func(item int) int) ([]Chunk, error) {
	if err := check(work, p, home); err != nil {
		return nil, err
	}
	total := 0
	for _, w := range work {
		total += w
	}
	target := (total + p - 1) / p
	order := make([]int, len(work))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(work[b], work[a]) })
	load := make([]int, p)
	var ch []Chunk
	for _, i := range order {
		for a := 0; a < work[i]; {
			rem := work[i] - a
			r := home(i)
			if load[r]+rem > target {
				for q := range p {
					if load[q] < load[r] {
						r = q
					}
				}
			}
			take := min(rem, target-load[r])
			if take <= 0 {
				take = rem
			}
			ch = append(ch, Chunk{Item: i, Rank: r, A: a, B: a + take})
			load[r] += take
			a += take
		}
	}
	sortChunks(ch)
	return ch, nil
}

func sortChunks(ch []Chunk) {
	slices.SortStableFunc(ch, func(a, b Chunk) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), cmp.Compare(a.Item, b.Item), cmp.Compare(a.A, b.A))
	})
}

// Loads returns the units of work each of the p ranks gets.
func Loads(ch []Chunk, p int) []int {
	load := make([]int, p)
	for _, c := range ch {
		load[c.Rank] += c.Len()
	}
	return load
}

// Imbalance returns the largest rank load over the mean (1 is perfect
// balance; 1 for no work at all).
func Imbalance(ch []Chunk, p int) float64 {
	load := Loads(ch, p)
	mx, sum := 0, 0
	for _, l := range load {
		mx = max(mx, l)
		sum += l
	}
	if sum == 0 {
		return 1
	}
	return float64(mx) * float64(p) / float64(sum)
}
