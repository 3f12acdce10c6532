package blockcyclic

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestCyclic2DBruteForce checks owners, local block coordinates and local
// block counts of every grid up to 4 x 4, both orders and every source,
// against the element-wise deal of each dimension, with MB = NB = 1 so
// blocks and elements coincide. 1 x P and P x 1 grids are included.
func TestCyclic2DBruteForce(t *testing.T) {
	const mt, nt = 7, 9
	for p := 1; p <= 4; p++ {
		for q := 1; q <= 4; q++ {
			for _, order := range []Order{RowMajor, ColMajor} {
				for rsrc := 0; rsrc < p; rsrc++ {
					for csrc := 0; csrc < q; csrc++ {
						d, err := NewCyclic2D(p, q, order, rsrc, csrc)
						if err != nil {
							t.Fatal(err)
						}
						checkCyclic2D(t, d, mt, nt)
					}
				}
			}
		}
	}
}

func checkCyclic2D(t *testing.T, d Cyclic2D, mt, nt int) {
	t.Helper()
	p, q := d.Grid()
	rsrc, csrc := d.Source()
	rows := deal(layout1D{mt, 1, p, rsrc})
	cols := deal(layout1D{nt, 1, q, csrc})
	seen := make(map[[3]int]bool) // (rank, li, lj) must be unique
	for rank := 0; rank < d.Size(); rank++ {
		pr, pc := d.Coords(rank)
		if d.Rank(pr, pc) != rank {
			t.Fatalf("%v %dx%d: Rank(Coords(%d)) = %d", d.Order(), p, q, rank, d.Rank(pr, pc))
		}
	}
	for i := 0; i < mt; i++ {
		for j := 0; j < nt; j++ {
			owner := d.Owner(i, j)
			pr, pc := d.Coords(owner)
			if pr != rows.owner[i] || pc != cols.owner[j] {
				t.Fatalf("%+v: block (%d, %d) on (%d, %d), want (%d, %d)",
					d, i, j, pr, pc, rows.owner[i], cols.owner[j])
			}
			li, lj := d.LocalBlock(i, j)
			if li != rows.local[i] || lj != cols.local[j] {
				t.Fatalf("%+v: block (%d, %d) local (%d, %d), want (%d, %d)",
					d, i, j, li, lj, rows.local[i], cols.local[j])
			}
			key := [3]int{owner, li, lj}
			if seen[key] {
				t.Fatalf("%+v: two blocks at local (%d, %d) on rank %d", d, li, lj, owner)
			}
			seen[key] = true
		}
	}
	for pr := 0; pr < p; pr++ {
		for pc := 0; pc < q; pc++ {
			lmt, lnt := d.LocalBlocks(mt, nt, pr, pc)
			if lmt != len(rows.global[pr]) || lnt != len(cols.global[pc]) {
				t.Fatalf("%+v: LocalBlocks at (%d, %d) = %d x %d, want %d x %d",
					d, pr, pc, lmt, lnt, len(rows.global[pr]), len(cols.global[pc]))
			}
		}
	}
}

func TestCyclic2DOrders(t *testing.T) {
	// The grids drawn in doc.go.
	row, _ := NewCyclic2D(2, 3, RowMajor, 0, 0)
	col, _ := NewCyclic2D(2, 3, ColMajor, 0, 0)
	wantRow := [2][3]int{{0, 1, 2}, {3, 4, 5}}
	wantCol := [2][3]int{{0, 2, 4}, {1, 3, 5}}
	for pr := 0; pr < 2; pr++ {
		for pc := 0; pc < 3; pc++ {
			if r := row.Rank(pr, pc); r != wantRow[pr][pc] {
				t.Errorf("row-major (%d, %d) = %d, want %d", pr, pc, r, wantRow[pr][pc])
			}
			if r := col.Rank(pr, pc); r != wantCol[pr][pc] {
				t.Errorf("column-major (%d, %d) = %d, want %d", pr, pc, r, wantCol[pr][pc])
			}
		}
	}
}

func TestNewCyclic2DErrors(t *testing.T) {
	for _, c := range []struct {
		p, q       int
		order      Order
		rsrc, csrc int
	}{
		{0, 1, RowMajor, 0, 0},
		{1, -1, RowMajor, 0, 0},
		{2, 2, Order(7), 0, 0},
		{2, 2, RowMajor, 2, 0},
		{2, 2, ColMajor, 0, -1},
	} {
		if _, err := NewCyclic2D(c.p, c.q, c.order, c.rsrc, c.csrc); err == nil {
			t.Errorf("NewCyclic2D%+v: no error", c)
		}
	}
}

// goldenLayouts are the small layouts whose owner tables live under
// testdata/owners/, reviewed as diffs when they change.
var goldenLayouts = []struct {
	p, q       int
	order      Order
	rsrc, csrc int
	mt, nt     int
}{
	{2, 3, RowMajor, 0, 0, 5, 5}, // the drawing in doc.go
	{2, 3, ColMajor, 0, 0, 5, 5},
	{2, 2, RowMajor, 1, 1, 4, 6},
	{1, 4, RowMajor, 0, 2, 3, 6}, // 1 x P
	{3, 1, ColMajor, 2, 0, 6, 3}, // P x 1
	{3, 2, ColMajor, 1, 0, 7, 5},
}

func ownerTable(d Cyclic2D, mt, nt int) []byte {
	p, q := d.Grid()
	rsrc, csrc := d.Source()
	header := fmt.Sprintf("Cyclic2D: %d x %d grid, %v, source (%d, %d)", p, q, d.Order(), rsrc, csrc)
	return distTableWith(header, "local blocks held by each rank (rank: prow,pcol: rows x cols)", d, mt, nt,
		func(rank int) string {
			pr, pc := d.Coords(rank)
			lmt, lnt := d.LocalBlocks(mt, nt, pr, pc)
			return fmt.Sprintf("%d,%d: %d x %d", pr, pc, lmt, lnt)
		})
}

// TestOwnerGolden compares owner tables with testdata/owners/. Regenerate
// with
//
//	go test ./blockcyclic -run TestOwnerGolden -update
//
// and review the diff.
func TestOwnerGolden(t *testing.T) {
	for _, l := range goldenLayouts {
		order := "row"
		if l.order == ColMajor {
			order = "col"
		}
		name := fmt.Sprintf("%dx%d_%s_src%d%d_%dx%d.txt", l.p, l.q, order, l.rsrc, l.csrc, l.mt, l.nt)
		t.Run(name, func(t *testing.T) {
			d, err := NewCyclic2D(l.p, l.q, l.order, l.rsrc, l.csrc)
			if err != nil {
				t.Fatal(err)
			}
			got := ownerTable(d, l.mt, l.nt)
			path := filepath.Join("testdata", "owners", name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs; got\n%s\nwant\n%s\n(run with -update if the change is intended)",
					path, got, want)
			}
		})
	}
}
