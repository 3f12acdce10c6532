package placement_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/dagmpi/placement"
)

// covers checks that the chunks tile every item's [0, work) exactly once.
func covers(t *testing.T, work []int, ch []placement.Chunk) {
	t.Helper()
	next := make([]int, len(work))
	for _, c := range ch {
		require.Less(t, c.A, c.B, "empty chunk %+v", c)
	}
	// Chunks of one item are ordered by rank, not by A: walk by A.
	for i := range work {
		for {
			found := false
			for _, c := range ch {
				if c.Item == i && c.A == next[i] {
					next[i], found = c.B, true
					break
				}
			}
			if !found {
				break
			}
		}
		assert.Equal(t, work[i], next[i], "item %d covered up to %d of %d", i, next[i], work[i])
	}
	n := 0
	for _, c := range ch {
		n += c.Len()
	}
	total := 0
	for _, w := range work {
		total += w
	}
	assert.Equal(t, total, n, "units placed (an overlap would count twice)")
}

func TestBalance(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for trial := range 500 {
		p := 1 + rng.IntN(9)
		work := make([]int, rng.IntN(20))
		total := 0
		for i := range work {
			// Zipf-like skew with zeros.
			work[i] = int(float64(rng.IntN(1000)) / math.Pow(float64(i+1), 1.2))
			total += work[i]
		}
		home := func(i int) int { return (i * 3) % p }
		ch, err := placement.Balance(work, p, home)
		require.NoError(t, err)
		covers(t, work, ch)
		target := (total + p - 1) / p
		for r, l := range placement.Loads(ch, p) {
			assert.LessOrEqual(t, l, target, "trial %d: rank %d load %d above the mean %d", trial, r, l, target)
		}
		items := 0
		for _, w := range work {
			if w > 0 {
				items++
			}
		}
		assert.LessOrEqual(t, len(ch)-items, p-1, "trial %d: cuts", trial)
		for k := 1; k < len(ch); k++ {
			a, b := ch[k-1], ch[k]
			assert.True(t, a.Rank < b.Rank || (a.Rank == b.Rank && (a.Item < b.Item || (a.Item == b.Item && a.A < b.A))), "order %+v %+v", a, b)
		}
		again, _ := placement.Balance(work, p, home)
		assert.Equal(t, ch, again, "deterministic")
		if total > 0 {
			assert.LessOrEqual(t, placement.Imbalance(ch, p), float64(target*p)/float64(total)+1e-12)
		}
	}
}

func TestBalanceByHand(t *testing.T) {
	// Mean 8: the heavy item 0 fills its home rank 0 and spills 2 units to
	// rank 1; items 1 and 3 fit on their home rank 1; item 2's home is
	// full, so it goes to the least loaded rank, 1.
	work := []int{10, 2, 2, 2}
	ch, err := placement.Balance(work, 2, func(i int) int { return i % 2 })
	require.NoError(t, err)
	assert.Equal(t, []placement.Chunk{
		{Item: 0, Rank: 0, A: 0, B: 8},
		{Item: 0, Rank: 1, A: 8, B: 10},
		{Item: 1, Rank: 1, A: 0, B: 2},
		{Item: 2, Rank: 1, A: 0, B: 2},
		{Item: 3, Rank: 1, A: 0, B: 2},
	}, ch)
	assert.Equal(t, []int{8, 8}, placement.Loads(ch, 2))
	assert.Equal(t, 1.0, placement.Imbalance(ch, 2))
}

func TestStatic(t *testing.T) {
	work := []int{5, 0, 3, 7}
	ch, err := placement.Static(work, 2, func(i int) int { return i % 2 })
	require.NoError(t, err)
	assert.Equal(t, []placement.Chunk{{Item: 0, Rank: 0, A: 0, B: 5}, {Item: 2, Rank: 0, A: 0, B: 3}, {Item: 3, Rank: 1, A: 0, B: 7}}, ch)
	assert.Equal(t, []int{8, 7}, placement.Loads(ch, 2))
	assert.InDelta(t, 16.0/15, placement.Imbalance(ch, 2), 1e-12)
	assert.Equal(t, 1.0, placement.Imbalance(nil, 3))
}

func TestErrors(t *testing.T) {
	_, err := placement.Balance([]int{1}, 0, func(int) int { return 0 })
	assert.ErrorContains(t, err, "0 ranks")
	_, err = placement.Static([]int{1, -2}, 2, func(int) int { return 0 })
	assert.ErrorContains(t, err, "work[1] = -2 is negative")
	_, err = placement.Balance([]int{0, 4}, 2, func(i int) int { return i * 5 })
	assert.ErrorContains(t, err, "home(1) = 5 is not a rank of 2")
}
