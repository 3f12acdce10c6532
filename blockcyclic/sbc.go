package blockcyclic

import "fmt"

// SBC is the symmetric block-cyclic distribution of Beaumont,
// Eyraud-Dubois, Langou and Vérité ("Symmetric Block-Cyclic Distribution:
// Fewer Communications Leads to Faster Dense Cholesky Factorization",
// SC'22), for symmetric matrices of which an algorithm touches one
// triangle: tile (i, j) and tile (j, i) have the same owner, and the tiles
// of block row k and block column k together live on only about
// sqrt(2 Size()) ranks, against about 2 sqrt(Size()) for a square 2D
// block-cyclic grid. A Cholesky factorization sends each panel tile to the
// ranks holding its block row and column, so SBC moves about sqrt(2) less
// data.
//
// The tiles are dealt by an r x r pattern repeated over the matrix: tile
// (i, j) falls on pattern cell (i mod r, j mod r) of pattern copy
// (I, J) = (i / r, j / r). Each rank holds two pattern rows and columns, its
// residues a < b:
//
//   - Basic variant, r >= 2, Size() = r(r-1)/2: one rank per pair {a, b}
//     of the r residues, numbered in lexicographic order ({0,1} is rank 0,
//     {0,2} rank 1, ..., {r-2,r-1} the last). Off-diagonal pattern cells
//     (a, b) and (b, a) belong to rank {a, b}. Diagonal pattern cell (c, c)
//     rotates among the r-1 ranks whose pair holds c: in copy (I, J) it goes
//     to the t-th of them, t = max(I, J) mod (r-1), in increasing order of
//     the pair's other residue. The rotation spreads the diagonal tiles (and
//     the same-residue tiles elsewhere) over those ranks and keeps
//     Owner(i, j) = Owner(j, i).
//   - Extended variant, r >= 2 even, Size() = r²/2: the r(r-1)/2 pair ranks
//     as above, and r/2 more ranks, rank r(r-1)/2 + c holding the diagonal
//     pattern cells (2c, 2c) and (2c+1, 2c+1) (its residues are 2c, 2c+1).
//     With r = 2 this is 2 ranks: rank 0 the off-diagonal cells, rank 1 the
//     diagonal ones.
//
// In both, every tile of block row or column k is on a rank whose residues
// include k mod r: r-1 ranks (basic) or r ranks (extended).
//
// Tiles of a rank are numbered on a local grid of its residues' block rows
// and columns: tile (i, j) is local block (2 (i / r) + [i mod r = b],
// 2 (j / r) + [j mod r = b]). That grid has holes (the same-residue cells
// other ranks hold), so LocalBlocks is its bounding size, not a count.
//
// Like Cyclic2D it deals blocks of any index, so it needs no matrix size.
// The zero value is not usable; make one with NewSBC or SBCForRanks.
type SBC struct {
	r   int
	ext bool
}

var _ Distribution = SBC{}

// NewSBC returns the symmetric block-cyclic distribution with an r x r
// pattern: the basic variant over r(r-1)/2 ranks, or with extended the
// extended variant over r²/2 ranks. It returns an error if r is less than
// two, or odd for the extended variant.
func NewSBC(r int, extended bool) (SBC, error) {
	switch {
	case r < 2:
		return SBC{}, fmt.Errorf("blockcyclic: SBC pattern size r = %d must be at least 2", r)
	case extended && r%2 != 0:
		return SBC{}, fmt.Errorf("blockcyclic: extended SBC needs an even pattern size r, got %d", r)
	}
	return SBC{r: r, ext: extended}, nil
}

// SBCForRanks returns the SBC distribution over exactly p ranks: the basic
// variant if p = r(r-1)/2 for some r (1, 3, 6, 10, 15, ...), otherwise the
// extended one if p = r²/2 with r even (2, 8, 18, 32, ...). Other p get an
// error naming the nearest sizes that work.
func SBCForRanks(p int) (SBC, error) {
	if p < 1 {
		return SBC{}, fmt.Errorf("blockcyclic: SBC over %d ranks: need at least one", p)
	}
	below, above := 0, 0
	for r := 2; ; r++ {
		for _, ext := range []bool{false, true} {
			if ext && r%2 != 0 {
				continue
			}
			d := SBC{r: r, ext: ext}
			s := d.Size()
			if s == p {
				return d, nil
			}
			if s < p {
				below = max(below, s)
			} else if above == 0 || s < above {
				above = s
			}
		}
		if r*(r-1)/2 > p {
			break
		}
	}
	return SBC{}, fmt.Errorf("blockcyclic: no SBC distribution over %d ranks (r(r-1)/2 or r²/2 with r even); nearest: %d or %d ranks", p, below, above)
}

// R returns the pattern size r.
func (d SBC) R() int { return d.r }

// Extended reports whether d is the extended variant.
func (d SBC) Extended() bool { return d.ext }

// pairs returns the number of pair ranks, r(r-1)/2.
func (d SBC) pairs() int { return d.r * (d.r - 1) / 2 }

// Size returns r(r-1)/2 (basic) or r²/2 (extended).
func (d SBC) Size() int {
	if d.ext {
		return d.pairs() + d.r/2
	}
	return d.pairs()
}

// pairRank returns the rank of the pair {a, b}, a < b.
func (d SBC) pairRank(a, b int) int {
	return a*(d.r-1) - a*(a-1)/2 + (b - a - 1)
}

// Residues returns the two pattern rows (and columns) a < b whose tiles
// rank holds: every tile (i, j) on rank has i mod r and j mod r in {a, b}.
func (d SBC) Residues(rank int) (a, b int) {
	if rank < 0 || rank >= d.Size() {
		panic(errRankRange)
	}
	if rank >= d.pairs() {
		c := rank - d.pairs()
		return 2 * c, 2*c + 1
	}
	for a = 0; ; a++ {
		n := d.r - 1 - a // pairs starting with a
		if rank < n {
			return a, a + 1 + rank
		}
		rank -= n
	}
}

// Owner returns the rank owning block (i, j); Owner(i, j) = Owner(j, i).
func (d SBC) Owner(i, j int) int {
	if i < 0 || j < 0 {
		panic(errBlockRange)
	}
	a, b := i%d.r, j%d.r
	if a != b {
		return d.pairRank(min(a, b), max(a, b))
	}
	if d.ext {
		return d.pairs() + a/2
	}
	t := max(i/d.r, j/d.r) % (d.r - 1)
	o := t // the t-th residue other than a
	if o >= a {
		o++
	}
	return d.pairRank(min(a, o), max(a, o))
}

// LocalBlock returns the position of block (i, j) on its owner's local
// grid (see the type's doc).
func (d SBC) LocalBlock(i, j int) (li, lj int) {
	_, b := d.Residues(d.Owner(i, j))
	return d.local(i, b), d.local(j, b)
}

func (d SBC) local(i, b int) int {
	l := 2 * (i / d.r)
	if i%d.r == b {
		l++
	}
	return l
}

// LocalBlocks returns the size of rank's local grid of an mt x nt grid of
// blocks: how many of the mt block rows and of the nt block columns have a
// residue of rank. Not every cell of that grid is held (see the type's doc).
func (d SBC) LocalBlocks(mt, nt, rank int) (lmt, lnt int) {
	a, b := d.Residues(rank)
	count := func(n int) int { return residueCount(n, a, d.r) + residueCount(n, b, d.r) }
	return count(mt), count(nt)
}

// residueCount returns how many of 0, ..., n-1 are c mod r.
func residueCount(n, c, r int) int {
	if n <= c {
		return 0
	}
	return (n - c + r - 1) / r
}

// Holds reports whether rank may hold tiles of block row or column k
// (k mod r is one of its residues). Ranks for which it is false hold no
// tile (i, j) with i = k or j = k.
func (d SBC) Holds(rank, k int) bool {
	if k < 0 {
		panic(errBlockRange)
	}
	a, b := d.Residues(rank)
	c := k % d.r
	return c == a || c == b
}
