package blockcyclic

import (
	"fmt"
	"testing"
)

// layout1D is one dimension of a block-cyclic layout.
type layout1D struct {
	n, nb, nprocs, isrc int
}

func (c layout1D) String() string {
	return fmt.Sprintf("n=%d nb=%d nprocs=%d isrc=%d", c.n, c.nb, c.nprocs, c.isrc)
}

// dealt is the brute-force reference: it walks every global index and deals
// block g/nb to process (isrc + g/nb) mod nprocs, the definition of the
// block-cyclic layout, handing out local indices in order.
type dealt struct {
	owner  []int   // owner[g]
	local  []int   // local[g]: local index of g on its owner
	global [][]int // global[p][l]: global index of local index l on p
}

func deal(c layout1D) dealt {
	d := dealt{
		owner:  make([]int, c.n),
		local:  make([]int, c.n),
		global: make([][]int, c.nprocs),
	}
	p := c.isrc
	for g := 0; g < c.n; g++ {
		if g > 0 && g%c.nb == 0 {
			p = (p + 1) % c.nprocs // next block, next process
		}
		d.owner[g] = p
		d.local[g] = len(d.global[p])
		d.global[p] = append(d.global[p], g)
	}
	return d
}

// namedCases are the boundary cases named in the design, kept readable.
var namedCases = []struct {
	name string
	layout1D
}{
	{"empty", layout1D{0, 4, 3, 0}},
	{"n<nb", layout1D{3, 8, 4, 0}},
	{"n<nb, isrc!=0", layout1D{3, 8, 4, 2}},
	{"n=nb", layout1D{8, 8, 2, 1}},
	{"partial last block", layout1D{10, 4, 2, 0}},
	{"partial last block wraps", layout1D{23, 4, 3, 2}},
	{"fewer blocks than procs", layout1D{9, 4, 5, 3}},
	{"single proc (1 x P / P x 1 dimension)", layout1D{17, 3, 1, 0}},
	{"nb=1 (cyclic)", layout1D{11, 1, 4, 3}},
	{"one block per proc (block)", layout1D{12, 3, 4, 0}},
	{"large", layout1D{1000, 64, 7, 5}},
	{"large, exact multiple", layout1D{1024, 32, 4, 1}},
}

// sweep returns every layout with n in [0, 40], nb in [1, 7], nprocs in
// [1, 5] and every source process: every mix of n < nb, exact multiples,
// partial last blocks and more processes than blocks.
func sweep() []layout1D {
	var cs []layout1D
	for n := 0; n <= 40; n++ {
		for nb := 1; nb <= 7; nb++ {
			for np := 1; np <= 5; np++ {
				for src := 0; src < np; src++ {
					cs = append(cs, layout1D{n, nb, np, src})
				}
			}
		}
	}
	for _, c := range namedCases {
		cs = append(cs, c.layout1D)
	}
	return cs
}

// checkLayout compares the index maps with the brute-force deal of c.
func checkLayout(t *testing.T, c layout1D) {
	t.Helper()
	d := deal(c)
	sum := 0
	for p := 0; p < c.nprocs; p++ {
		got := Numroc(c.n, c.nb, p, c.isrc, c.nprocs)
		if want := len(d.global[p]); got != want {
			t.Errorf("%v: Numroc(iproc=%d) = %d, want %d", c, p, got, want)
		}
		sum += got
		for l, g := range d.global[p] {
			if got := Indxl2g(l, c.nb, p, c.isrc, c.nprocs); got != g {
				t.Errorf("%v: Indxl2g(l=%d, iproc=%d) = %d, want %d", c, l, p, got, g)
			}
		}
	}
	if sum != c.n {
		t.Errorf("%v: sum of Numroc over processes = %d, want n", c, sum)
	}
	for g := 0; g < c.n; g++ {
		p := Indxg2p(g, c.nb, c.isrc, c.nprocs)
		if p != d.owner[g] {
			t.Errorf("%v: Indxg2p(%d) = %d, want %d", c, g, p, d.owner[g])
		}
		l := Indxg2l(g, c.nb, c.nprocs)
		if l != d.local[g] {
			t.Errorf("%v: Indxg2l(%d) = %d, want %d", c, g, l, d.local[g])
		}
		if back := Indxl2g(l, c.nb, p, c.isrc, c.nprocs); back != g {
			t.Errorf("%v: Indxl2g(Indxg2l(%d)) on owner %d = %d", c, g, p, back)
		}
	}
}

func TestIndexMapsNamed(t *testing.T) {
	for _, c := range namedCases {
		t.Run(c.name, func(t *testing.T) { checkLayout(t, c.layout1D) })
	}
}

func TestIndexMapsSweep(t *testing.T) {
	cs := sweep()
	for _, c := range cs {
		checkLayout(t, c)
		if t.Failed() {
			t.Fatalf("stopping at the first failing layout, %v", c)
		}
	}
	t.Logf("%d layouts", len(cs))
}

// TestNumrocWorked checks a few values worked out by hand (see doc.go).
func TestNumrocWorked(t *testing.T) {
	for _, c := range []struct{ n, nb, iproc, isrc, nprocs, want int }{
		{9, 2, 0, 0, 2, 5},  // blocks 0, 2, 4 (the last has 1 row)
		{9, 2, 1, 0, 2, 4},  // blocks 1, 3
		{14, 3, 1, 0, 3, 5}, // blocks 1 (3 columns) and 4 (2 columns)
		{14, 3, 0, 1, 3, 3}, // source 1: process 0 gets block 2 only
		{3, 8, 2, 2, 4, 3},  // n < nb: everything on the source
		{3, 8, 3, 2, 4, 0},
	} {
		if got := Numroc(c.n, c.nb, c.iproc, c.isrc, c.nprocs); got != c.want {
			t.Errorf("Numroc(%d, %d, %d, %d, %d) = %d, want %d",
				c.n, c.nb, c.iproc, c.isrc, c.nprocs, got, c.want)
		}
	}
}

func TestIndexMapsPanic(t *testing.T) {
	for _, c := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"Numroc nb=0", func() { Numroc(4, 0, 0, 0, 1) }, errBlockSize},
		{"Numroc nprocs=0", func() { Numroc(4, 1, 0, 0, 0) }, errNumProcs},
		{"Numroc iproc=nprocs", func() { Numroc(4, 1, 2, 0, 2) }, errProcRange},
		{"Numroc isrc<0", func() { Numroc(4, 1, 0, -1, 2) }, errProcRange},
		{"Numroc n<0", func() { Numroc(-1, 1, 0, 0, 2) }, errNegLength},
		{"Indxg2p g<0", func() { Indxg2p(-1, 2, 0, 2) }, errNegIndex},
		{"Indxg2p isrc", func() { Indxg2p(0, 2, 3, 2) }, errProcRange},
		{"Indxg2l nb<0", func() { Indxg2l(0, -2, 2) }, errBlockSize},
		{"Indxl2g l<0", func() { Indxl2g(-1, 2, 0, 0, 2) }, errNegIndex},
		{"Indxl2g iproc", func() { Indxl2g(0, 2, 5, 0, 2) }, errProcRange},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if r := recover(); r != c.msg {
					t.Errorf("panic %v, want %q", r, c.msg)
				}
			}()
			c.f()
		})
	}
}
