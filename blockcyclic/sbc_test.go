package blockcyclic

import (
	"fmt"
	"strings"
	"testing"
)

// sbcs returns the SBC distributions the tests check: basic r = 2..7
// (1 to 21 ranks) and extended r = 2, 4, 6 (2, 8, 18 ranks).
func sbcs(t *testing.T) []SBC {
	var out []SBC
	for r := 2; r <= 7; r++ {
		out = append(out, mustSBC(t, r, false))
		if r%2 == 0 {
			out = append(out, mustSBC(t, r, true))
		}
	}
	return out
}

func mustSBC(t *testing.T, r int, ext bool) SBC {
	t.Helper()
	d, err := NewSBC(r, ext)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sbcName(d SBC) string {
	if d.Extended() {
		return fmt.Sprintf("extended SBC r=%d", d.R())
	}
	return fmt.Sprintf("basic SBC r=%d", d.R())
}

// TestSBCBruteForce checks the Distribution contract and the SBC
// properties on every tile of square and rectangular tile grids, against a
// reference built from the pattern's definition: the size, symmetry of
// owners, the owner's residues, the rotation of the diagonal cells, the
// uniqueness of (owner, local block) inside the owner's local grid, and
// the number of ranks a block row and column touch.
func TestSBCBruteForce(t *testing.T) {
	for _, d := range sbcs(t) {
		r := d.R()
		name := sbcName(d)
		want := r * (r - 1) / 2
		if d.Extended() {
			want = r * r / 2
		}
		if d.Size() != want {
			t.Fatalf("%s: Size() = %d, want %d", name, d.Size(), want)
		}
		// Residues: pairs in lexicographic order, then the diagonal ranks.
		rank := 0
		for a := 0; a < r; a++ {
			for b := a + 1; b < r; b++ {
				if x, y := d.Residues(rank); x != a || y != b {
					t.Fatalf("%s: Residues(%d) = %d, %d, want %d, %d", name, rank, x, y, a, b)
				}
				rank++
			}
		}
		for ; rank < d.Size(); rank++ {
			c := rank - r*(r-1)/2
			if x, y := d.Residues(rank); x != 2*c || y != 2*c+1 {
				t.Fatalf("%s: Residues(%d) = %d, %d, want %d, %d", name, rank, x, y, 2*c, 2*c+1)
			}
		}
		for _, sh := range [][2]int{{3*r + 2, 3*r + 2}, {2*r*(r-1) + 1, 2*r*(r-1) + 1}, {r + 1, 2*r + 3}, {1, 1}} {
			mt, nt := sh[0], sh[1]
			seen := map[[3]int]bool{}
			for i := 0; i < mt; i++ {
				for j := 0; j < nt; j++ {
					o := d.Owner(i, j)
					if o < 0 || o >= d.Size() {
						t.Fatalf("%s: block (%d, %d) on rank %d of %d", name, i, j, o, d.Size())
					}
					if o2 := d.Owner(j, i); o2 != o {
						t.Fatalf("%s: block (%d, %d) on rank %d but (%d, %d) on rank %d", name, i, j, o, j, i, o2)
					}
					a, b := d.Residues(o)
					ri, rj := i%r, j%r
					if (ri != a && ri != b) || (rj != a && rj != b) {
						t.Fatalf("%s: block (%d, %d) on rank %d whose residues are %d, %d", name, i, j, o, a, b)
					}
					if wo := sbcRefOwner(d, i, j); wo != o {
						t.Fatalf("%s: block (%d, %d) on rank %d, want %d", name, i, j, o, wo)
					}
					li, lj := d.LocalBlock(i, j)
					lmt, lnt := d.LocalBlocks(mt, nt, o)
					if li < 0 || lj < 0 || li >= lmt || lj >= lnt {
						t.Fatalf("%s, %d x %d blocks: block (%d, %d) local (%d, %d) outside rank %d's %d x %d grid", name, mt, nt, i, j, li, lj, o, lmt, lnt)
					}
					key := [3]int{o, li, lj}
					if seen[key] {
						t.Fatalf("%s: two blocks at local (%d, %d) on rank %d", name, li, lj, o)
					}
					seen[key] = true
				}
			}
			// LocalBlocks counts the block rows and columns with a residue
			// of the rank.
			for rank := 0; rank < d.Size(); rank++ {
				a, b := d.Residues(rank)
				var wm, wn int
				for i := 0; i < mt; i++ {
					if i%r == a || i%r == b {
						wm++
					}
				}
				for j := 0; j < nt; j++ {
					if j%r == a || j%r == b {
						wn++
					}
				}
				if lmt, lnt := d.LocalBlocks(mt, nt, rank); lmt != wm || lnt != wn {
					t.Fatalf("%s, %d x %d blocks: LocalBlocks(rank %d) = %d x %d, want %d x %d", name, mt, nt, rank, lmt, lnt, wm, wn)
				}
			}
			if mt != nt {
				continue
			}
			// The ranks touching block row and column k of the lower
			// triangle: r-1 (basic) or r (extended) once the matrix holds
			// enough pattern copies, and Holds agrees.
			wantTouch := r - 1
			if d.Extended() {
				wantTouch = r
			}
			for k := 0; k < nt; k++ {
				touch := map[int]bool{}
				for x := 0; x < nt; x++ {
					touch[d.Owner(max(k, x), min(k, x))] = true
				}
				for o := range touch {
					if !d.Holds(o, k) {
						t.Fatalf("%s: rank %d holds a tile of block row/column %d but Holds says no", name, o, k)
					}
				}
				if len(touch) > wantTouch || (nt >= 2*r*(r-1)+1 && len(touch) != wantTouch) {
					t.Fatalf("%s, %d x %d blocks: block row/column %d touches %d ranks, want %d", name, nt, nt, k, len(touch), wantTouch)
				}
			}
		}
	}
}

// sbcRefOwner is the owner of block (i, j) from the pattern's definition,
// by search: the pair rank holding both residues for an off-diagonal cell;
// for a diagonal cell, the extended variant's diagonal rank, or the t-th
// (t = max(I, J) mod (r-1)) of the pair ranks holding the residue in
// increasing order of rank.
func sbcRefOwner(d SBC, i, j int) int {
	r := d.R()
	a, b := i%r, j%r
	var cands []int
	for rank := 0; rank < r*(r-1)/2; rank++ {
		x, y := d.Residues(rank)
		if a != b && ((x == a && y == b) || (x == b && y == a)) {
			return rank
		}
		if a == b && (x == a || y == a) {
			cands = append(cands, rank)
		}
	}
	if d.Extended() {
		return r*(r-1)/2 + a/2
	}
	return cands[max(i/r, j/r)%(r-1)]
}

// TestSBCBalance checks that the lower triangle's tiles (what a Cholesky
// factorization works on) are spread evenly: over a few pattern copies no
// rank holds more than 15% above the mean.
func TestSBCBalance(t *testing.T) {
	for _, d := range sbcs(t) {
		r := d.R()
		nt := 4 * r * max(r-1, 1)
		held := make([]int, d.Size())
		for j := 0; j < nt; j++ {
			for i := j; i < nt; i++ {
				held[d.Owner(i, j)]++
			}
		}
		mean := float64(nt*(nt+1)/2) / float64(d.Size())
		for rank, h := range held {
			if float64(h) > 1.15*mean {
				t.Errorf("%s, %d x %d tiles: rank %d holds %d lower-triangle tiles, mean %.1f", sbcName(d), nt, nt, rank, h, mean)
			}
		}
	}
}

func TestSBCErrors(t *testing.T) {
	for _, c := range []struct {
		r   int
		ext bool
	}{{1, false}, {0, false}, {-2, true}, {3, true}, {5, true}} {
		if _, err := NewSBC(c.r, c.ext); err == nil {
			t.Errorf("NewSBC(%d, %v): no error", c.r, c.ext)
		}
	}
	for p, want := range map[int]string{1: "basic SBC r=2", 2: "extended SBC r=2", 3: "basic SBC r=3", 6: "basic SBC r=4",
		8: "extended SBC r=4", 10: "basic SBC r=5", 15: "basic SBC r=6", 18: "extended SBC r=6", 32: "extended SBC r=8"} {
		d, err := SBCForRanks(p)
		if err != nil || sbcName(d) != want || d.Size() != p {
			t.Errorf("SBCForRanks(%d) = %s (%d ranks), %v; want %s", p, sbcName(d), d.Size(), err, want)
		}
	}
	for p, near := range map[int]string{4: "3 or 6", 5: "3 or 6", 7: "6 or 8", 0: "", -1: ""} {
		_, err := SBCForRanks(p)
		if err == nil || !strings.Contains(err.Error(), near) {
			t.Errorf("SBCForRanks(%d) error %v, want one naming %q", p, err, near)
		}
	}
}

func TestSBCPanic(t *testing.T) {
	d := mustSBC(t, 3, false)
	for name, f := range map[string]func(){
		"Owner(-1, 0)":      func() { d.Owner(-1, 0) },
		"LocalBlock(0, -1)": func() { d.LocalBlock(0, -1) },
		"Residues(3)":       func() { d.Residues(3) },
		"Residues(-1)":      func() { d.Residues(-1) },
		"Holds(0, -1)":      func() { d.Holds(0, -1) },
		"LocalBlocks rank":  func() { d.LocalBlocks(3, 3, 5) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

// TestSBCGolden compares SBC owner tables with testdata/owners/
// (regenerate with -update, see TestLayoutGolden). The basic r = 3 table is
// the drawing in doc.go.
func TestSBCGolden(t *testing.T) {
	for _, l := range []struct {
		r   int
		ext bool
		nt  int
	}{
		{3, false, 7}, {4, false, 8}, {2, true, 5}, {4, true, 9}, {2, false, 3},
	} {
		variant := "basic"
		if l.ext {
			variant = "extended"
		}
		name := fmt.Sprintf("sbc_%s_r%d_%dx%d.txt", variant, l.r, l.nt, l.nt)
		t.Run(name, func(t *testing.T) {
			d := mustSBC(t, l.r, l.ext)
			header := fmt.Sprintf("SBC %s, r = %d, %d ranks", variant, l.r, d.Size())
			got := distTableWith(header, "residues and local grid of each rank (rank: a,b: rows x cols; lower-triangle tiles held)", d, l.nt, l.nt,
				func(rank int) string {
					a, b := d.Residues(rank)
					lmt, lnt := d.LocalBlocks(l.nt, l.nt, rank)
					held := 0
					for j := 0; j < l.nt; j++ {
						for i := j; i < l.nt; i++ {
							if d.Owner(i, j) == rank {
								held++
							}
						}
					}
					return fmt.Sprintf("%d,%d: %d x %d; %d", a, b, lmt, lnt, held)
				})
			checkGolden(t, name, got)
		})
	}
}
