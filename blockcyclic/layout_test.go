package blockcyclic

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// refBlock is the brute-force reference of a contiguous block layout of n
// items over p processes: the band width is the smallest w with w*p >= n,
// and the items are handed out in order, w to a process before moving to the
// next one.
func refBlock(n, p int) dealt {
	w := 0
	for w*p < n {
		w++
	}
	d := dealt{owner: make([]int, n), local: make([]int, n), global: make([][]int, p)}
	r := 0
	for k := 0; k < n; k++ {
		if len(d.global[r]) == w {
			r++
		}
		d.owner[k] = r
		d.local[k] = len(d.global[r])
		d.global[r] = append(d.global[r], k)
	}
	return d
}

// checkDist checks every block of an mt x nt grid of blocks of d against
// want (owner rank and local block), and that every rank's blocks fill its
// local grid of lmt x lnt = counts(rank) blocks, each slot exactly once.
func checkDist(t *testing.T, name string, d Distribution, mt, nt int,
	want func(i, j int) (rank, li, lj int), counts func(rank int) (lmt, lnt int)) {
	t.Helper()
	seen := make(map[[3]int]bool) // (rank, li, lj)
	for i := 0; i < mt; i++ {
		for j := 0; j < nt; j++ {
			wr, wli, wlj := want(i, j)
			owner := d.Owner(i, j)
			li, lj := d.LocalBlock(i, j)
			if owner != wr || li != wli || lj != wlj {
				t.Fatalf("%s, %d x %d blocks: block (%d, %d) on rank %d as (%d, %d), want rank %d as (%d, %d)",
					name, mt, nt, i, j, owner, li, lj, wr, wli, wlj)
			}
			if owner < 0 || owner >= d.Size() {
				t.Fatalf("%s: block (%d, %d) on rank %d of %d", name, i, j, owner, d.Size())
			}
			key := [3]int{owner, li, lj}
			if seen[key] {
				t.Fatalf("%s: two blocks at local (%d, %d) on rank %d", name, li, lj, owner)
			}
			seen[key] = true
		}
	}
	total := 0
	for rank := 0; rank < d.Size(); rank++ {
		lmt, lnt := counts(rank)
		total += lmt * lnt
		for li := 0; li < lmt; li++ {
			for lj := 0; lj < lnt; lj++ {
				if !seen[[3]int{rank, li, lj}] {
					t.Fatalf("%s, %d x %d blocks: rank %d holds %d x %d blocks but local (%d, %d) is empty",
						name, mt, nt, rank, lmt, lnt, li, lj)
				}
			}
		}
	}
	if total != mt*nt {
		t.Fatalf("%s, %d x %d blocks: local grids hold %d blocks in all", name, mt, nt, total)
	}
}

// TestBlock1DBruteForce checks every 1D block layout of up to 7 ranks and up
// to 9 blocks along the split dimension (more ranks than blocks, a single
// rank, empty last ranks) against refBlock, and against the block-cyclic
// index maps with block size ceil(n / P).
func TestBlock1DBruteForce(t *testing.T) {
	const other = 3 // blocks along the dimension that is not split
	for _, axis := range []Axis{ByRows, ByCols} {
		for p := 1; p <= 7; p++ {
			for n := 0; n <= 9; n++ {
				d, err := NewBlock1D(p, axis, n)
				if err != nil {
					t.Fatal(err)
				}
				ref := refBlock(n, p)
				name := fmt.Sprintf("Block1D %v p=%d n=%d", axis, p, n)
				mt, nt := axis.join(n, other)
				checkDist(t, name, d, mt, nt,
					func(i, j int) (int, int, int) {
						k, o := axis.split(i, j)
						li, lj := axis.join(ref.local[k], o)
						return ref.owner[k], li, lj
					},
					func(rank int) (int, int) {
						first, count := d.Band(rank)
						if count != len(ref.global[rank]) || count > 0 && first != ref.global[rank][0] {
							t.Fatalf("%s: Band(%d) = %d, %d, want %v", name, rank, first, count, ref.global[rank])
						}
						return axis.join(count, other)
					})
				for k := 0; k < n; k++ {
					i, j := axis.join(k, 0)
					if o := d.Owner(i, j); o != Indxg2p(k, d.Width(), 0, p) {
						t.Fatalf("%s: owner of %d is %d, Indxg2p says %d", name, k, o, Indxg2p(k, d.Width(), 0, p))
					}
				}
			}
		}
	}
}

// TestCyclic1DBruteForce checks every 1D cyclic layout of up to 5 ranks,
// every source and up to 9 blocks against the element-wise deal with a block
// size of one, and against Cyclic2D over a P x 1 (or 1 x P) grid.
func TestCyclic1DBruteForce(t *testing.T) {
	const other = 3
	for _, axis := range []Axis{ByRows, ByCols} {
		for p := 1; p <= 5; p++ {
			for src := 0; src < p; src++ {
				d, err := NewCyclic1D(p, axis, src)
				if err != nil {
					t.Fatal(err)
				}
				gp, gq := axis.join(p, 1)
				rs, cs := axis.join(src, 0)
				c2, err := NewCyclic2D(gp, gq, RowMajor, rs, cs)
				if err != nil {
					t.Fatal(err)
				}
				for n := 0; n <= 9; n++ {
					ref := deal(layout1D{n, 1, p, src})
					name := fmt.Sprintf("Cyclic1D %v p=%d src=%d n=%d", axis, p, src, n)
					mt, nt := axis.join(n, other)
					checkDist(t, name, d, mt, nt,
						func(i, j int) (int, int, int) {
							k, o := axis.split(i, j)
							li, lj := axis.join(ref.local[k], o)
							if c2.Owner(i, j) != ref.owner[k] {
								t.Fatalf("%s: Cyclic2D disagrees on block (%d, %d)", name, i, j)
							}
							return ref.owner[k], li, lj
						},
						func(rank int) (int, int) { return axis.join(d.LocalBlocks(n, rank), other) })
				}
			}
		}
	}
}

func TestNew1DErrors(t *testing.T) {
	for _, c := range []struct {
		p    int
		axis Axis
		n    int
	}{{0, ByRows, 1}, {2, Axis(2), 1}, {2, ByCols, -1}} {
		if _, err := NewBlock1D(c.p, c.axis, c.n); err == nil {
			t.Errorf("NewBlock1D%+v: no error", c)
		}
	}
	for _, c := range []struct {
		p    int
		axis Axis
		src  int
	}{{0, ByRows, 0}, {2, Axis(-1), 0}, {2, ByCols, 2}, {2, ByRows, -1}} {
		if _, err := NewCyclic1D(c.p, c.axis, c.src); err == nil {
			t.Errorf("NewCyclic1D%+v: no error", c)
		}
	}
}

func TestLayoutsPanic(t *testing.T) {
	b, _ := NewBlock1D(3, ByRows, 5)
	bc, _ := NewBlock1D(3, ByCols, 5)
	c, _ := NewCyclic1D(3, ByCols, 1)
	for _, x := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"Block1D row past n", func() { b.Owner(5, 0) }, errBlockRange},
		{"Block1D negative column", func() { b.LocalBlock(0, -1) }, errBlockRange},
		{"Block1D ByCols column past n", func() { bc.LocalBlock(0, 5) }, errBlockRange},
		{"Block1D Band rank", func() { b.Band(3) }, errRankRange},
		{"Cyclic1D negative row", func() { c.Owner(-1, 0) }, errBlockRange},
		{"Cyclic1D negative column", func() { c.LocalBlock(0, -1) }, errBlockRange},
		{"Cyclic1D LocalBlocks rank", func() { c.LocalBlocks(4, 3) }, errProcRange},
	} {
		t.Run(x.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != x.msg {
					t.Errorf("panic %v, want %q", r, x.msg)
				}
			}()
			x.f()
		})
	}
}

// distTable prints the owner and local block of every block of an mt x nt
// grid of blocks, then one line per rank from counts.
func distTable(header string, d Distribution, mt, nt int, counts func(rank int) string) []byte {
	return distTableWith(header, "blocks held by each rank", d, mt, nt, counts)
}

// distTableWith is distTable with the heading of the per-rank lines given.
func distTableWith(header, perRank string, d Distribution, mt, nt int, counts func(rank int) string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s; %d x %d blocks\n", header, mt, nt)
	fmt.Fprintf(&b, "# owner rank of block (i, j)\n")
	for i := 0; i < mt; i++ {
		for j := 0; j < nt; j++ {
			fmt.Fprintf(&b, "%3d", d.Owner(i, j))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "# local block (li,lj) of block (i, j) on its owner\n")
	for i := 0; i < mt; i++ {
		for j := 0; j < nt; j++ {
			li, lj := d.LocalBlock(i, j)
			fmt.Fprintf(&b, " (%d,%d)", li, lj)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "# %s\n", perRank)
	for rank := 0; rank < d.Size(); rank++ {
		fmt.Fprintf(&b, "%d: %s\n", rank, counts(rank))
	}
	return b.Bytes()
}

// checkGolden compares got with testdata/owners/name, or rewrites it under
// -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
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
}

func axisName(a Axis) string {
	if a == ByCols {
		return "cols"
	}
	return "rows"
}

// TestLayoutGolden compares the owner tables of the other layouts with
// testdata/owners/. Regenerate with
//
//	go test ./blockcyclic -run 'TestOwnerGolden|TestLayoutGolden' -update
//
// and review the diff.
func TestLayoutGolden(t *testing.T) {
	for _, l := range []struct {
		p      int
		axis   Axis
		mt, nt int
	}{
		{3, ByRows, 7, 3}, // bands of 3, 3, 1
		{4, ByCols, 2, 5}, // bands of 2, 2, 1, 0
		{5, ByRows, 3, 2}, // more ranks than blocks
		{1, ByCols, 3, 4},
	} {
		n, _ := l.axis.split(l.mt, l.nt)
		name := fmt.Sprintf("block1d_%s_p%d_%dx%d.txt", axisName(l.axis), l.p, l.mt, l.nt)
		t.Run(name, func(t *testing.T) {
			d, err := NewBlock1D(l.p, l.axis, n)
			if err != nil {
				t.Fatal(err)
			}
			header := fmt.Sprintf("Block1D: %d ranks, %v, %d blocks, width %d", l.p, l.axis, n, d.Width())
			checkGolden(t, name, distTable(header, d, l.mt, l.nt, func(rank int) string {
				first, count := d.Band(rank)
				return fmt.Sprintf("band [%d, %d)", first, first+count)
			}))
		})
	}
	for _, l := range []struct {
		p, src int
		axis   Axis
		mt, nt int
	}{
		{3, 0, ByRows, 7, 3},
		{4, 2, ByCols, 2, 6},
		{5, 3, ByRows, 3, 2}, // more ranks than blocks
	} {
		name := fmt.Sprintf("cyclic1d_%s_p%d_src%d_%dx%d.txt", axisName(l.axis), l.p, l.src, l.mt, l.nt)
		t.Run(name, func(t *testing.T) {
			d, err := NewCyclic1D(l.p, l.axis, l.src)
			if err != nil {
				t.Fatal(err)
			}
			n, _ := l.axis.split(l.mt, l.nt)
			header := fmt.Sprintf("Cyclic1D: %d ranks, %v, source %d", l.p, l.axis, l.src)
			checkGolden(t, name, distTable(header, d, l.mt, l.nt, func(rank int) string {
				return fmt.Sprintf("%d", d.LocalBlocks(n, rank))
			}))
		})
	}
}

// TestBlock2DBruteForce checks every 2D block layout on grids up to 4 x 4,
// both orders, and up to 6 x 6 blocks (1 x P, P x 1, more ranks than blocks
// in either dimension, empty bands) against refBlock on each dimension.
func TestBlock2DBruteForce(t *testing.T) {
	for p := 1; p <= 4; p++ {
		for q := 1; q <= 4; q++ {
			for _, order := range []Order{RowMajor, ColMajor} {
				for mt := 0; mt <= 6; mt++ {
					for nt := 0; nt <= 6; nt++ {
						d, err := NewBlock2D(p, q, order, mt, nt)
						if err != nil {
							t.Fatal(err)
						}
						rows, cols := refBlock(mt, p), refBlock(nt, q)
						name := fmt.Sprintf("Block2D %dx%d %v", p, q, order)
						checkDist(t, name, d, mt, nt,
							func(i, j int) (int, int, int) {
								return gridRank(p, q, order, rows.owner[i], cols.owner[j]), rows.local[i], cols.local[j]
							},
							func(rank int) (int, int) {
								pr, pc := d.Coords(rank)
								if d.Rank(pr, pc) != rank {
									t.Fatalf("%s: Rank(Coords(%d)) = %d", name, rank, d.Rank(pr, pc))
								}
								r0, rn := d.RowBand(pr)
								c0, cn := d.ColBand(pc)
								if rn != len(rows.global[pr]) || rn > 0 && r0 != rows.global[pr][0] ||
									cn != len(cols.global[pc]) || cn > 0 && c0 != cols.global[pc][0] {
									t.Fatalf("%s %dx%d blocks: bands of (%d, %d) are [%d+%d) x [%d+%d), want %v x %v",
										name, mt, nt, pr, pc, r0, rn, c0, cn, rows.global[pr], cols.global[pc])
								}
								return rn, cn
							})
					}
				}
			}
		}
	}
	// The grid numbering is Cyclic2D's.
	d, _ := NewBlock2D(2, 3, ColMajor, 4, 6)
	c, _ := NewCyclic2D(2, 3, ColMajor, 0, 0)
	for rank := 0; rank < 6; rank++ {
		pr, pc := d.Coords(rank)
		if cr, cc := c.Coords(rank); pr != cr || pc != cc {
			t.Errorf("rank %d at (%d, %d), Cyclic2D says (%d, %d)", rank, pr, pc, cr, cc)
		}
	}
}

func TestNewBlock2DErrors(t *testing.T) {
	for _, c := range []struct {
		p, q   int
		order  Order
		mt, nt int
	}{
		{0, 1, RowMajor, 1, 1},
		{1, -1, RowMajor, 1, 1},
		{2, 2, Order(7), 1, 1},
		{2, 2, RowMajor, -1, 0},
		{2, 2, ColMajor, 0, -1},
	} {
		if _, err := NewBlock2D(c.p, c.q, c.order, c.mt, c.nt); err == nil {
			t.Errorf("NewBlock2D%+v: no error", c)
		}
	}
}

func TestBlock2DPanic(t *testing.T) {
	d, _ := NewBlock2D(2, 3, RowMajor, 4, 5)
	for _, x := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"row past mt", func() { d.Owner(4, 0) }, errBlockRange},
		{"column past nt", func() { d.LocalBlock(0, 5) }, errBlockRange},
		{"negative row", func() { d.Owner(-1, 0) }, errBlockRange},
		{"RowBand", func() { d.RowBand(2) }, errProcRange},
		{"ColBand", func() { d.ColBand(-1) }, errProcRange},
		{"Rank", func() { d.Rank(0, 3) }, errProcRange},
		{"Coords", func() { d.Coords(6) }, errRankRange},
	} {
		t.Run(x.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != x.msg {
					t.Errorf("panic %v, want %q", r, x.msg)
				}
			}()
			x.f()
		})
	}
}

func TestBlock2DGolden(t *testing.T) {
	for _, l := range []struct {
		p, q   int
		order  Order
		mt, nt int
	}{
		{2, 3, RowMajor, 5, 5},
		{2, 3, ColMajor, 5, 5},
		{1, 4, RowMajor, 3, 6}, // 1 x P
		{3, 1, ColMajor, 6, 3}, // P x 1
		{3, 2, RowMajor, 2, 1}, // more ranks than blocks
		{4, 2, ColMajor, 5, 7}, // bands of 2, 2, 1, 0 rows
	} {
		order := "row"
		if l.order == ColMajor {
			order = "col"
		}
		name := fmt.Sprintf("block2d_%dx%d_%s_%dx%d.txt", l.p, l.q, order, l.mt, l.nt)
		t.Run(name, func(t *testing.T) {
			d, err := NewBlock2D(l.p, l.q, l.order, l.mt, l.nt)
			if err != nil {
				t.Fatal(err)
			}
			wr, wc := d.Widths()
			header := fmt.Sprintf("Block2D: %d x %d grid, %v, widths %d x %d", l.p, l.q, l.order, wr, wc)
			checkGolden(t, name, distTable(header, d, l.mt, l.nt, func(rank int) string {
				pr, pc := d.Coords(rank)
				r0, rn := d.RowBand(pr)
				c0, cn := d.ColBand(pc)
				return fmt.Sprintf("%d,%d: rows [%d, %d) x cols [%d, %d)", pr, pc, r0, r0+rn, c0, c0+cn)
			}))
		})
	}
}

// TestCyclic3DBruteForce checks every P x Q x R grid up to 3 x 3 x 3, both
// orders and every source, on up to 5 x 4 blocks, against the element-wise
// deal of each dimension: the owners of each block, their numbering layer
// by layer, and every replica's local slots, each used once.
func TestCyclic3DBruteForce(t *testing.T) {
	for p := 1; p <= 3; p++ {
		for q := 1; q <= 3; q++ {
			for r := 1; r <= 3; r++ {
				for _, order := range []Order{RowMajor, ColMajor} {
					for rsrc := 0; rsrc < p; rsrc++ {
						for csrc := 0; csrc < q; csrc++ {
							d, err := NewCyclic3D(p, q, r, order, rsrc, csrc)
							if err != nil {
								t.Fatal(err)
							}
							for _, mt := range []int{0, 1, 2, 5} {
								for _, nt := range []int{0, 1, 3, 4} {
									checkCyclic3D(t, d, mt, nt)
								}
							}
						}
					}
				}
			}
		}
	}
}

func checkCyclic3D(t *testing.T, d Cyclic3D, mt, nt int) {
	t.Helper()
	p, q, r := d.Grid()
	c := d.Layer()
	rsrc, csrc := c.Source()
	name := fmt.Sprintf("Cyclic3D %dx%dx%d %v src (%d, %d), %d x %d blocks", p, q, r, c.Order(), rsrc, csrc, mt, nt)
	rows := deal(layout1D{mt, 1, p, rsrc})
	cols := deal(layout1D{nt, 1, q, csrc})
	// rankOf numbers the grid by the definition in the doc comment.
	rankOf := func(pr, pc, l int) int {
		if c.Order() == RowMajor {
			return l*p*q + pr*q + pc
		}
		return l*p*q + pc*p + pr
	}
	for rank := 0; rank < d.Size(); rank++ {
		pr, pc, l := d.Coords(rank)
		if rankOf(pr, pc, l) != rank || d.Rank(pr, pc, l) != rank {
			t.Fatalf("%s: Coords(%d) = (%d, %d, %d)", name, rank, pr, pc, l)
		}
	}
	seen := make(map[[3]int]bool)
	var owners []int
	for i := 0; i < mt; i++ {
		for j := 0; j < nt; j++ {
			owners = d.Owners(owners[:0], i, j)
			if len(owners) != r {
				t.Fatalf("%s: block (%d, %d) has %d owners", name, i, j, len(owners))
			}
			for l, o := range owners {
				if want := rankOf(rows.owner[i], cols.owner[j], l); o != want {
					t.Fatalf("%s: block (%d, %d) on layer %d at rank %d, want %d", name, i, j, l, o, want)
				}
			}
			if d.Owner(i, j) != owners[0] {
				t.Fatalf("%s: Owner(%d, %d) = %d, not layer 0's %d", name, i, j, d.Owner(i, j), owners[0])
			}
			li, lj := d.LocalBlock(i, j)
			if li != rows.local[i] || lj != cols.local[j] {
				t.Fatalf("%s: block (%d, %d) local (%d, %d), want (%d, %d)",
					name, i, j, li, lj, rows.local[i], cols.local[j])
			}
			for _, o := range owners {
				key := [3]int{o, li, lj}
				if seen[key] {
					t.Fatalf("%s: two blocks at local (%d, %d) on rank %d", name, li, lj, o)
				}
				seen[key] = true
			}
		}
	}
	for rank := 0; rank < d.Size(); rank++ {
		pr, pc, _ := d.Coords(rank)
		lmt, lnt := d.LocalBlocks(mt, nt, rank)
		if lmt != len(rows.global[pr]) || lnt != len(cols.global[pc]) {
			t.Fatalf("%s: rank %d holds %d x %d, want %d x %d", name, rank, lmt, lnt,
				len(rows.global[pr]), len(cols.global[pc]))
		}
		for li := 0; li < lmt; li++ {
			for lj := 0; lj < lnt; lj++ {
				if !seen[[3]int{rank, li, lj}] {
					t.Fatalf("%s: rank %d local (%d, %d) is empty", name, rank, li, lj)
				}
			}
		}
	}
}

func TestCyclic3DOwnersNoAlloc(t *testing.T) {
	d, _ := NewCyclic3D(2, 3, 4, ColMajor, 1, 2)
	buf := make([]int, 0, 4)
	if n := testing.AllocsPerRun(100, func() { buf = d.Owners(buf[:0], 3, 5) }); n != 0 {
		t.Errorf("Owners allocates %v times", n)
	}
}

func TestNewCyclic3DErrors(t *testing.T) {
	for _, c := range []struct {
		p, q, r    int
		order      Order
		rsrc, csrc int
	}{
		{2, 2, 0, RowMajor, 0, 0},
		{0, 2, 2, RowMajor, 0, 0},
		{2, 2, 2, Order(3), 0, 0},
		{2, 2, 2, ColMajor, 0, 2},
	} {
		if _, err := NewCyclic3D(c.p, c.q, c.r, c.order, c.rsrc, c.csrc); err == nil {
			t.Errorf("NewCyclic3D%+v: no error", c)
		}
	}
}

func TestCyclic3DPanic(t *testing.T) {
	d, _ := NewCyclic3D(2, 2, 3, RowMajor, 0, 0)
	for _, x := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"Owner", func() { d.Owner(-1, 0) }, errBlockRange},
		{"Owners", func() { d.Owners(nil, 0, -1) }, errBlockRange},
		{"LocalBlock", func() { d.LocalBlock(-1, 0) }, errBlockRange},
		{"Rank layer", func() { d.Rank(0, 0, 3) }, errLayerRange},
		{"Rank prow", func() { d.Rank(2, 0, 0) }, errProcRange},
		{"Coords", func() { d.Coords(12) }, errRankRange},
		{"LocalBlocks", func() { d.LocalBlocks(2, 2, -1) }, errRankRange},
	} {
		t.Run(x.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != x.msg {
					t.Errorf("panic %v, want %q", r, x.msg)
				}
			}()
			x.f()
		})
	}
}

func TestCyclic3DGolden(t *testing.T) {
	for _, l := range []struct {
		p, q, r    int
		order      Order
		rsrc, csrc int
		mt, nt     int
	}{
		{2, 2, 2, RowMajor, 0, 0, 4, 4},
		{2, 3, 2, ColMajor, 1, 0, 5, 5},
		{1, 3, 3, RowMajor, 0, 1, 2, 4}, // 1 x Q layers
		{3, 1, 2, ColMajor, 0, 0, 2, 2}, // more ranks per layer than block rows
	} {
		order := "row"
		if l.order == ColMajor {
			order = "col"
		}
		name := fmt.Sprintf("cyclic3d_%dx%dx%d_%s_src%d%d_%dx%d.txt", l.p, l.q, l.r, order, l.rsrc, l.csrc, l.mt, l.nt)
		t.Run(name, func(t *testing.T) {
			d, err := NewCyclic3D(l.p, l.q, l.r, l.order, l.rsrc, l.csrc)
			if err != nil {
				t.Fatal(err)
			}
			header := fmt.Sprintf("Cyclic3D: %d x %d x %d grid, %v, source (%d, %d); owner on layer 0",
				l.p, l.q, l.r, l.order, l.rsrc, l.csrc)
			got := distTable(header, d, l.mt, l.nt, func(rank int) string {
				pr, pc, layer := d.Coords(rank)
				lmt, lnt := d.LocalBlocks(l.mt, l.nt, rank)
				return fmt.Sprintf("%d,%d,%d: %d x %d", pr, pc, layer, lmt, lnt)
			})
			var b bytes.Buffer
			b.Write(got)
			fmt.Fprintf(&b, "# all owners of block (i, j), layer 0 first\n")
			for i := 0; i < l.mt; i++ {
				for j := 0; j < l.nt; j++ {
					fmt.Fprintf(&b, " %v", d.Owners(nil, i, j))
				}
				b.WriteByte('\n')
			}
			checkGolden(t, name, b.Bytes())
		})
	}
}
