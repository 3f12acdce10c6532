package blockcyclic

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Pivoting selects how Getrf chooses its pivots.
type Pivoting int

const (
	// PartialPivoting is LAPACK's and ScaLAPACK's: at each column the
	// largest entry in magnitude among the rows not yet pivoted, searched
	// over the whole process column. It is the default (the zero value).
	PartialPivoting Pivoting = iota
	// NoPivoting factors A = L U without row interchanges. It is stable for
	// diagonally dominant (by columns) and symmetric positive definite
	// matrices, and can fail or lose all accuracy on others. The panel then
	// needs no communication along the process column.
	NoPivoting
	// TournamentPivoting is communication-avoiding LU's (CALU, Grigori,
	// Demmel and Xiang 2011): each rank holding tiles of the panel picks nb
	// candidate pivot rows among its own rows by partial pivoting (DGETRF on
	// a copy), the candidates are reduced pairwise along a binary tree of
	// those ranks (DGETRF on the 2 nb stacked candidates each time) to nb
	// pivot rows, which are moved to the top, and the panel is then factored
	// without further pivoting. Only nb x nb blocks travel up the process
	// column instead of the whole panel. On a grid with one process row the
	// pivots are those of partial pivoting; otherwise they differ, with a
	// growth factor that is larger in theory but similar in practice.
	TournamentPivoting
)

func (p Pivoting) String() string {
	switch p {
	case PartialPivoting:
		return "partial"
	case NoPivoting:
		return "none"
	case TournamentPivoting:
		return "tournament"
	}
	return fmt.Sprintf("Pivoting(%d)", int(p))
}

// ParsePivoting returns the Pivoting named s: "partial", "none" or
// "tournament" (as String gives them).
func ParsePivoting(s string) (Pivoting, error) {
	for _, p := range []Pivoting{PartialPivoting, NoPivoting, TournamentPivoting} {
		if p.String() == s {
			return p, nil
		}
	}
	return 0, fmt.Errorf("blockcyclic: pivoting %q: want partial, none or tournament", s)
}

// Pivots are the row interchanges of an LU factorization by Getrf, one
// dagmpi.Data of int32 per panel (tile column) on the rank that factored
// it. They are used by Getrs and read with Ints.
type Pivots struct {
	rt       *dagmpi.Runtime
	m, n, nb int
	kind     Pivoting
	steps    []*dagmpi.Data[int32] // step k's pivots, global 0-based rows; nil without pivoting
	on       []int                 // rank holding steps[k]
}

// Len returns the number of pivots, min(m, n) for an m x n matrix.
func (p *Pivots) Len() int { return min(p.m, p.n) }

// Pivoting returns the pivoting the factorization used.
func (p *Pivots) Pivoting() Pivoting { return p.kind }

// Ints returns the pivots on every rank, 0-based and global like gonum's
// Dgetrf: for i = 0, 1, ..., Len()-1 in turn, row i of the matrix was
// interchanged with row ipiv[i] >= i, so that P A = L U. LAPACK's and
// ScaLAPACK's IPIV (1-based) is ipiv[i] + 1. Without pivoting ipiv[i] = i.
// It is collective (it waits for the panels that wrote them).
func (p *Pivots) Ints() ([]int, error) {
	out := make([]int, 0, p.Len())
	for k := range p.steps {
		if p.steps[k] == nil {
			for i := k * p.nb; i < min(p.Len(), (k+1)*p.nb); i++ {
				out = append(out, i)
			}
			continue
		}
		v, err := p.steps[k].FetchAll()
		if err != nil {
			return nil, fmt.Errorf("blockcyclic: Pivots.Ints: panel %d: %w", k, err)
		}
		for _, x := range v {
			out = append(out, int(x))
		}
	}
	return out, nil
}

// Getrf computes the LU factorization of the m x n matrix a in place, as
// LAPACK DGETRF and ScaLAPACK PDGETRF: P A = L U with L unit lower
// triangular (lower trapezoidal if m > n) below the diagonal and U upper
// triangular (trapezoidal if m < n) on and above it. a must have square
// tiles (MB_ = NB_). pivoting chooses the pivots (PartialPivoting as
// LAPACK, TournamentPivoting, or NoPivoting); the interchanges are
// returned as Pivots, and are applied to the whole rows, left and right of
// each panel, as LAPACK does.
//
// It is collective and submits a task graph, right-looking, one step per
// tile column k: the panel (the tiles of column k from the diagonal down,
// factored as one tall block by LAPACK's DGETRF on the rank owning the
// diagonal tile; other ranks of the process column send their tiles there
// and get them back), the row interchanges in every other tile column (one
// task per column when its tiles below row k live on one rank, otherwise a
// three-phase exchange of only the rows that move between the ranks), a
// triangular solve for block row k through the inverse of the unit lower
// triangle, and a GEMM per trailing tile on its owner. Priorities put the
// next panel's column and the next panel before the rest of the trailing
// update (lookahead), and the interchanges left of the panel last. A tile
// column left of the panel whose tiles below the diagonal live on one rank
// (every column on a 1 x Q grid) gets the interchanges of all later steps
// at once, at the end, as one composed permutation of its rows. Every tile
// ends on its owner, so Gather and Local work after it.
//
// On a 1 x Q grid the tile columns are dealt to the ranks in turn and the
// ranks holding the last columns do the most work; an nb that leaves a
// narrow last tile column evens this out (at N = 8192 on 1 x 2, nb 496 or
// 528 rather than 512: see bench/results/la.md).
//
// It waits only for the factorization's status: the tasks may still be
// running when it returns. If a pivot is exactly zero, every rank returns
// the same Pivots and an error wrapping a *kernels.ZeroPivotError whose
// Column is LAPACK's INFO (1-based global index of the first zero
// U(i, i)); with partial pivoting the factorization is completed all the
// same, as in LAPACK; with the other pivotings the entries of L below a
// zero pivot are infinite or NaN.
//
// The growth factor max|U| / max|A| (MaxAbs of the upper triangle after, of
// the whole matrix before) measures the stability of the result.
func Getrf(a *Matrix, pivoting Pivoting) (*Pivots, error) {
	if a == nil {
		return nil, fmt.Errorf("blockcyclic: Getrf: nil matrix A")
	}
	if a.mb != a.nb {
		return nil, fmt.Errorf("blockcyclic: Getrf: A has %d x %d tiles, want square tiles (MB_ = NB_)", a.mb, a.nb)
	}
	switch pivoting {
	case PartialPivoting, NoPivoting, TournamentPivoting:
	default:
		return nil, fmt.Errorf("blockcyclic: Getrf: unknown pivoting %d", int(pivoting))
	}
	g := &luGraph{a: a, piv: &Pivots{rt: a.rt, m: a.m, n: a.n, nb: a.nb, kind: pivoting}}
	if err := g.submit(); err != nil {
		return nil, err
	}
	col, err := g.agreeInfo()
	if err != nil {
		return nil, err
	}
	if col != 0 {
		return g.piv, fmt.Errorf("blockcyclic: Getrf: %w", &kernels.ZeroPivotError{Column: col, M: a.m, N: a.n})
	}
	return g.piv, nil
}

// luGraph is the state of one Getrf submission.
type luGraph struct {
	a      *Matrix
	piv    *Pivots
	failed atomic.Int64 // this rank's first zero pivot (1-based global), 0: none
	swaps  *swapper
	marks  [][]dagmpi.Arg                // per rank: reads that order agreeInfo after its panels
	cands  map[int]*dagmpi.Data[float64] // tournament candidates of each rank
}

// luPanelPool recycles the tall panel buffers.
var luPanelPool sync.Pool

func (g *luGraph) record(col int64) {
	for {
		cur := g.failed.Load()
		if (cur != 0 && cur <= col) || g.failed.CompareAndSwap(cur, col) {
			return
		}
	}
}

// Priorities: the critical path (panel k, then the update of column k+1
// at step k, which the next panel needs) before everything else, earlier
// steps before later ones, nearer columns first; the interchanges left of
// the panel last.
func (g *luGraph) critical(k int, panel bool) int {
	t := max(g.a.mt, g.a.nt)
	p := t*t + t + 2*(t-k)
	if panel {
		p++
	}
	return p
}

func (g *luGraph) ordinary(k, j int) int {
	t := max(g.a.mt, g.a.nt)
	if j == k+1 {
		return g.critical(k, false)
	}
	return (t-k)*t + (t - j)
}

func (g *luGraph) submit() error {
	a := g.a
	steps := min(a.mt, a.nt)
	g.piv.steps = make([]*dagmpi.Data[int32], steps)
	g.piv.on = make([]int, steps)
	g.swaps = newSwapper(a)
	g.marks = make([][]dagmpi.Arg, a.rt.Size())
	for k := 0; k < steps; k++ {
		r0 := a.Owner(k, k)
		g.piv.on[k] = r0
		switch g.piv.kind {
		case PartialPivoting, TournamentPivoting:
			_, cols := a.TileDims(k, k)
			d, err := dagmpi.NewData[int32](a.rt, min(a.m-k*a.nb, cols), r0, nil)
			if err != nil {
				return err
			}
			g.piv.steps[k] = d
			g.marks[r0] = append(g.marks[r0], d.Read())
			if g.piv.kind == PartialPivoting {
				err = g.panel(k)
			} else {
				err = g.panelTournament(k)
			}
			if err != nil {
				return err
			}
		default:
			if err := g.panelNoPiv(k); err != nil {
				return err
			}
		}
		var inv *dagmpi.Data[float64]
		if k+1 < a.nt {
			var err error
			if inv, err = g.inverse(k); err != nil {
				return err
			}
		}
		if g.piv.kind != NoPivoting {
			// Interchanges right of the panel, then left.
			for j := k + 1; j < a.nt; j++ {
				if err := g.swaps.submit(j, k, g.piv, false, g.ordinary(k, j)); err != nil {
					return err
				}
			}
			for j := 0; j < k; j++ {
				if g.leftOnce(j) {
					continue // composed with the later steps' in leftSwaps
				}
				if err := g.swaps.submit(j, k, g.piv, false, 0); err != nil {
					return err
				}
			}
		}
		for j := k + 1; j < a.nt; j++ {
			if err := g.update(k, j, inv); err != nil {
				return err
			}
		}
	}
	if g.piv.kind != NoPivoting {
		for j := 0; j+1 < steps; j++ {
			if g.leftOnce(j) {
				if err := g.leftSwaps(j); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// leftOnce reports whether the interchanges of the steps after j are
// applied to tile column j once, composed, at the end (leftSwaps) rather
// than step by step: when the tiles of column j below block row j all live
// on one rank. Nothing reads L(:, j) after step j's updates, so the
// interchanges can wait.
func (g *luGraph) leftOnce(j int) bool {
	a := g.a
	for i := j + 2; i < a.mt; i++ {
		if a.Owner(i, j) != a.Owner(j+1, j) {
			return false
		}
	}
	return true
}

// leftSwaps submits the interchanges of steps j+1, ..., of tile column j
// as one permutation of its rows below block row j, on the rank holding
// them: the interchanges compose into a gather list (row x ends with the
// row that was at perm[x]), and each column of the tiles is copied out
// once and gathered back. Done step by step, each interchange touches one
// cache line per element, for every later step (about twice the time of
// the permutation applied once).
func (g *luGraph) leftSwaps(j int) error {
	a := g.a
	steps := len(g.piv.steps)
	top := (j + 1) * a.nb
	if top >= a.m {
		return nil
	}
	owner := a.Owner(j+1, j)
	t := newLUTask(a, owner)
	for k := j + 1; k < steps; k++ {
		t.read(g.piv.steps[k], g.piv.on[k])
	}
	for i := j + 1; i < a.mt; i++ {
		t.readWrite(a.Tile(i, j), owner)
	}
	_, cols := a.TileDims(0, j)
	return t.submit(0, "laswp-left", func(tk *dagmpi.Task) error {
		rows := a.m - top
		perm := make([]int32, rows)
		for x := range perm {
			perm[x] = int32(x)
		}
		for k := j + 1; k < steps; k++ {
			base := k*a.nb - top
			for r, p := range g.piv.steps[k].Buf(tk) {
				x, y := base+r, int(p)-top
				perm[x], perm[y] = perm[y], perm[x]
			}
		}
		first := 0 // the first row that moves
		for first < rows && perm[first] == int32(first) {
			first++
		}
		if first == rows {
			return nil
		}
		bufs := make([][]float64, a.mt-j-1)
		for i := range bufs {
			bufs[i] = a.Tile(j+1+i, j).Buf(tk)
		}
		col := make([]float64, rows)
		i0 := first / a.mb
		for c := 0; c < cols; c++ {
			for i := i0; i < len(bufs); i++ {
				r, _ := a.TileDims(j+1+i, j)
				copy(col[i*a.mb:i*a.mb+r], bufs[i][c*r:(c+1)*r])
			}
			for i := i0; i < len(bufs); i++ {
				r, _ := a.TileDims(j+1+i, j)
				dst := bufs[i][c*r : (c+1)*r]
				src := perm[i*a.mb : i*a.mb+r]
				for x := range dst {
					dst[x] = col[src[x]]
				}
			}
		}
		return nil
	})
}

// panel submits step k's panel factorization with partial pivoting: one
// task on the diagonal tile's owner r0 that factors the tiles (i, k), i >= k,
// as one tall column-major block with DGETRF and writes the pivots; tiles
// of other ranks travel to r0 and back.
func (g *luGraph) panel(k int) error {
	a := g.a
	r0 := a.Owner(k, k)
	top := k * a.nb
	rows, kb := a.m-top, min(a.nb, a.n-top)
	pd := g.piv.steps[k]
	t := newLUTask(a, r0)
	t.write(pd)
	var remote []int
	for i := k; i < a.mt; i++ {
		t.readWrite(a.Tile(i, k), a.Owner(i, k))
		if a.Owner(i, k) != r0 {
			remote = append(remote, i)
		}
	}
	ntile := a.mt - k
	err := t.submit(g.critical(k, true), "getrf-panel", func(tk *dagmpi.Task) error {
		ipiv := pd.Buf(tk)
		var blk []float64
		if ntile == 1 {
			blk = a.Tile(k, k).Buf(tk) // one tile: factor in place
		} else {
			if p, ok := luPanelPool.Get().(*[]float64); ok && cap(*p) >= rows*kb {
				blk = (*p)[:rows*kb]
			} else {
				blk = make([]float64, rows*kb)
			}
			for i := k; i < a.mt; i++ {
				r, _ := a.TileDims(i, k)
				tl := a.Tile(i, k).Buf(tk)
				off := (i - k) * a.nb
				for c := 0; c < kb; c++ {
					copy(blk[off+c*rows:off+c*rows+r], tl[c*r:(c+1)*r])
				}
			}
		}
		err := kernels.Getrf(rows, kb, blk, max(rows, 1), ipiv)
		var zp *kernels.ZeroPivotError
		if errors.As(err, &zp) {
			g.record(int64(top + zp.Column))
		} else if err != nil {
			return err
		}
		for r := range ipiv {
			ipiv[r] += int32(top)
		}
		if ntile > 1 {
			for i := k; i < a.mt; i++ {
				r, _ := a.TileDims(i, k)
				tl := a.Tile(i, k).Buf(tk)
				off := (i - k) * a.nb
				for c := 0; c < kb; c++ {
					copy(tl[c*r:(c+1)*r], blk[off+c*rows:off+c*rows+r])
				}
			}
			luPanelPool.Put(&blk)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The tiles of other ranks go home.
	for _, i := range remote {
		owner := a.Owner(i, k)
		mv := newLUTask(a, owner)
		mv.readWrite(a.Tile(i, k), r0)
		if err := mv.submit(g.critical(k, true), "getrf-home", noop); err != nil {
			return err
		}
	}
	return nil
}

// panelTournament submits step k's panel with tournament pivoting (see
// TournamentPivoting): candidate selection on each rank holding panel
// tiles, a binary reduction tree rooted at the diagonal tile's owner r0,
// the pivots on r0, their interchanges in panel column k, and the
// factorization without pivoting (panelNoPiv).
func (g *luGraph) panelTournament(k int) error {
	a := g.a
	r0 := a.Owner(k, k)
	top := k * a.nb
	_, kb := a.TileDims(k, k)
	ranks := []int{r0}
	for i := k + 1; i < a.mt; i++ {
		if o := a.Owner(i, k); !slices.Contains(ranks, o) {
			ranks = append(ranks, o)
		}
	}
	sort.Ints(ranks[1:])
	if g.cands == nil {
		g.cands = map[int]*dagmpi.Data[float64]{}
	}
	cands := make([]*dagmpi.Data[float64], len(ranks))
	for n, r := range ranks {
		c := g.cands[r]
		if c == nil {
			var err error
			if c, err = dagmpi.NewData[float64](a.rt, candLen(a.nb), r, nil); err != nil {
				return err
			}
			g.cands[r] = c
		}
		cands[n] = c
	}
	prio := g.critical(k, true)
	// Candidates of each rank among its own rows.
	for n, r := range ranks {
		t := newLUTask(a, r)
		var mine []int
		for i := k; i < a.mt; i++ {
			if a.Owner(i, k) == r {
				t.read(a.Tile(i, k), r)
				mine = append(mine, i)
			}
		}
		c := cands[n]
		t.write(c)
		if err := t.submit(prio, "calu-local", func(tk *dagmpi.Task) error {
			rows := 0
			for _, i := range mine {
				r, _ := a.TileDims(i, k)
				rows += r
			}
			blk := make([]float64, rows*kb)
			idx := make([]int, 0, rows)
			off := 0
			for _, i := range mine {
				r, _ := a.TileDims(i, k)
				tl := a.Tile(i, k).Buf(tk)
				for col := 0; col < kb; col++ {
					copy(blk[off+col*rows:off+col*rows+r], tl[col*r:(col+1)*r])
				}
				for x := 0; x < r; x++ {
					idx = append(idx, i*a.mb+x)
				}
				off += r
			}
			selectRows(blk, rows, kb, idx, c.Buf(tk), a.nb)
			return nil
		}); err != nil {
			return err
		}
	}
	// The reduction tree: cands[n] absorbs cands[n+s].
	for s := 1; s < len(ranks); s *= 2 {
		for n := 0; n+s < len(ranks); n += 2 * s {
			dst, src := cands[n], cands[n+s]
			t := newLUTask(a, ranks[n])
			t.args = append(t.args, dst.ReadWrite())
			t.from = append(t.from, ranks[n])
			t.outs = append(t.outs, dst)
			t.read(src, ranks[n+s])
			if err := t.submit(prio, "calu-reduce", func(tk *dagmpi.Task) error {
				d, sc := dst.Buf(tk), src.Buf(tk)
				nd, ns := int(d[0]), int(sc[0])
				rows := nd + ns
				blk := make([]float64, rows*kb)
				idx := make([]int, 0, rows)
				for _, c := range [][]float64{d, sc} {
					cnt := int(c[0])
					for x := 0; x < cnt; x++ {
						idx = append(idx, int(c[1+x]))
					}
				}
				for col := 0; col < kb; col++ {
					copy(blk[col*rows:col*rows+nd], d[1+a.nb+col*a.nb:1+a.nb+col*a.nb+nd])
					copy(blk[col*rows+nd:col*rows+rows], sc[1+a.nb+col*a.nb:1+a.nb+col*a.nb+ns])
				}
				selectRows(blk, rows, kb, idx, d, a.nb)
				return nil
			}); err != nil {
				return err
			}
		}
	}
	// The winners become interchanges on r0.
	pd := g.piv.steps[k]
	t := newLUTask(a, r0)
	t.read(cands[0], r0)
	t.write(pd)
	if err := t.submit(prio, "calu-pivots", func(tk *dagmpi.Task) error {
		c := cands[0].Buf(tk)
		ipiv := pd.Buf(tk)
		pos := map[int]int{}   // original row -> where it is now
		holds := map[int]int{} // position -> original row there now
		where := func(row int) int {
			if p, ok := pos[row]; ok {
				return p
			}
			return row
		}
		at := func(p int) int {
			if r, ok := holds[p]; ok {
				return r
			}
			return p
		}
		for r := range ipiv {
			w := int(c[1+r])
			p := where(w)
			ipiv[r] = int32(p)
			if p != top+r {
				x := at(top + r)
				holds[top+r], holds[p] = w, x
				pos[w], pos[x] = top+r, p
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := g.swaps.submit(k, k, g.piv, false, prio); err != nil {
		return err
	}
	return g.panelNoPiv(k)
}

// candLen is the length of a tournament candidate set for tile size nb:
// the count, nb global row indices, and the nb x nb rows column-major with
// leading dimension nb.
func candLen(nb int) int { return 1 + nb + nb*nb }

// selectRows picks the pivot rows of partial pivoting on the rows x kb
// column-major block blk (whose rows are the global rows idx), by DGETRF
// on a copy, and writes them, in pivot order and with their original
// values, as a candidate set into c (see candLen).
func selectRows(blk []float64, rows, kb int, idx []int, c []float64, nb int) {
	work := append([]float64(nil), blk...)
	np := min(rows, kb)
	ipiv := make([]int32, np)
	if np > 0 {
		_ = kernels.Getrf(rows, kb, work, max(rows, 1), ipiv) // a zero pivot still selects rows
	}
	order := make([]int, rows)
	for x := range order {
		order[x] = x
	}
	for r, p := range ipiv {
		order[r], order[p] = order[p], order[r]
	}
	c[0] = float64(np)
	for r := 0; r < np; r++ {
		c[1+r] = float64(idx[order[r]])
		for col := 0; col < kb; col++ {
			c[1+nb+r+col*nb] = blk[order[r]+col*rows]
		}
	}
}

// panelNoPiv submits step k's panel without pivoting: the diagonal tile's
// LU, then L(i,k) = A(i,k) U(k,k)⁻¹ on each tile's owner.
func (g *luGraph) panelNoPiv(k int) error {
	a := g.a
	r0 := a.Owner(k, k)
	top := k * a.nb
	kk := tileRef{a, k, k}
	g.marks[r0] = append(g.marks[r0], a.Tile(k, k).Read())
	err := submitTile(kk, nil, g.critical(k, true), "getrf-nopiv", func(tk *dagmpi.Task) error {
		buf, ld := kk.buf(tk)
		r, c := a.TileDims(k, k)
		err := kernels.GetrfNoPiv(r, c, buf, ld)
		var zp *kernels.ZeroPivotError
		if errors.As(err, &zp) {
			g.record(int64(top + zp.Column))
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	for i := k + 1; i < a.mt; i++ {
		w := tileRef{a, i, k}
		if err := submitTile(w, []tileRef{kk}, g.critical(k, true), "getrf-trsm", func(tk *dagmpi.Task) error {
			x, ldx := w.buf(tk)
			u, ldu := kk.buf(tk)
			r, c := a.TileDims(i, k)
			kernels.Trsm(blas.Right, blas.Upper, blas.NoTrans, blas.NonUnit, r, c, 1, u, ldu, x, ldx)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// inverse submits the inversion of step k's unit lower triangle L(k,k) on
// its owner, for the solves of block row k: OpenBLAS's DTRMM runs far
// faster than its DTRSM (see kernels.Trtri).
func (g *luGraph) inverse(k int) (*dagmpi.Data[float64], error) {
	a := g.a
	r0 := a.Owner(k, k)
	d, _ := a.TileDims(k, k)
	inv, err := dagmpi.NewData[float64](a.rt, d*d, r0, nil)
	if err != nil {
		return nil, err
	}
	t := newLUTask(a, r0)
	t.write(inv)
	t.read(a.Tile(k, k), r0)
	kk := tileRef{a, k, k}
	return inv, t.submit(g.critical(k, true), "getrf-trtri", func(tk *dagmpi.Task) error {
		src, ld := kk.buf(tk)
		dst := inv.Buf(tk)
		kernels.Lacpy(blas.Lower, d, d, src, ld, dst, d)
		return kernels.Trtri(blas.Lower, blas.Unit, d, dst, d)
	})
}

// update submits step k's work on tile column j > k (after its
// interchanges): U(k,j) = L(k,k)⁻¹ A(k,j), then A(i,j) -= L(i,k) U(k,j).
func (g *luGraph) update(k, j int, inv *dagmpi.Data[float64]) error {
	a := g.a
	prio := g.ordinary(k, j)
	kj := tileRef{a, k, j}
	r0 := a.Owner(k, k)
	t := newLUTask(a, a.Owner(k, j))
	t.readWrite(a.Tile(k, j), a.Owner(k, j))
	t.read(inv, r0)
	if err := t.submit(prio, "getrf-trmm", func(tk *dagmpi.Task) error {
		b, ldb := kj.buf(tk)
		m, n := a.TileDims(k, j)
		kernels.Trmm(blas.Left, blas.Lower, blas.NoTrans, blas.Unit, m, n, 1, inv.Buf(tk), m, b, ldb)
		return nil
	}); err != nil {
		return err
	}
	_, kb := a.TileDims(k, k)
	for i := k + 1; i < a.mt; i++ {
		w, x := tileRef{a, i, j}, tileRef{a, i, k}
		if out, err := prunedOut(w, x, kj); out || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		if err := submitTile(w, []tileRef{x, kj}, prio, "getrf-gemm", func(tk *dagmpi.Task) error {
			c, ldc := w.buf(tk)
			xv, ldx := x.buf(tk)
			yv, ldy := kj.buf(tk)
			m, n := a.TileDims(i, j)
			kernels.Gemm(blas.NoTrans, blas.NoTrans, m, n, kb, -1, xv, ldx, yv, ldy, 1, c, ldc)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// agreeInfo makes every rank agree on the first zero pivot, as the
// Cholesky's agreeInfo: each rank's part reads what its panels wrote
// (g.marks), so it runs after them.
func (g *luGraph) agreeInfo() (int, error) {
	return agreeMin(g.a.rt, &g.failed, "getrf-info", func(r int) []dagmpi.Arg { return g.marks[r] })
}

// luTask collects one task's accesses and the locations of what it reads,
// for pruned submission: a rank that neither runs it nor holds a version it
// reads leaves it out and declares where its writes were produced.
type luTask struct {
	m    *Matrix
	on   int
	args []dagmpi.Arg
	from []int
	outs []interface{ ProducedOn(int) error }
}

func newLUTask(m *Matrix, on int) *luTask { return &luTask{m: m, on: on} }

func (t *luTask) read(d interface{ Read() dagmpi.Arg }, loc int) {
	t.args = append(t.args, d.Read())
	t.from = append(t.from, loc)
}

func (t *luTask) readWrite(d *dagmpi.Data[float64], loc int) {
	t.args = append(t.args, d.ReadWrite())
	t.from = append(t.from, loc)
	t.outs = append(t.outs, d)
}

func (t *luTask) write(d interface {
	Write() dagmpi.Arg
	ProducedOn(int) error
}) {
	t.args = append(t.args, d.Write())
	t.outs = append(t.outs, d)
}

func (t *luTask) submit(prio int, name string, body func(*dagmpi.Task) error) error {
	if !t.m.involved(t.on, t.from...) {
		for _, o := range t.outs {
			if err := o.ProducedOn(t.on); err != nil {
				return err
			}
		}
		return nil
	}
	args := append(t.args, dagmpi.OnRank(t.on), dagmpi.Priority(prio), dagmpi.Name(name))
	return t.m.rt.Submit(body, args...)
}

// swapper applies the row interchanges of one LU step to the tile columns
// of a matrix x (A itself, or a right-hand side B with the same row
// blocks). When the tiles of column j from block row k down live on one
// rank, one task there swaps the rows in place. Otherwise the exchange
// moves only rows, in three phases: each other rank r packs the rows of its
// tiles that go up into block row k into up[j,r]; the owner of tile (k,j)
// fills its block row from those and from its own tiles, writes the rows it
// had into down[j] and places those of them that go to its own tiles; each
// other rank then places the rows of down[j] that go to its tiles. (Under
// partial pivoting a row below block row k only ever receives a row that
// started in block row k: see swapMoves.)
type swapper struct {
	x    *Matrix
	up   map[[2]int]*dagmpi.Data[float64]
	down map[int]*dagmpi.Data[float64]
}

func newSwapper(x *Matrix) *swapper {
	return &swapper{x: x, up: map[[2]int]*dagmpi.Data[float64]{}, down: map[int]*dagmpi.Data[float64]{}}
}

func (s *swapper) buffer(j, rank int, down bool) (*dagmpi.Data[float64], error) {
	x := s.x
	_, c := x.TileDims(0, j)
	if down {
		if d := s.down[j]; d != nil {
			return d, nil
		}
		d, err := dagmpi.NewData[float64](x.rt, x.mb*c, rank, nil)
		s.down[j] = d
		return d, err
	}
	if d := s.up[[2]int{j, rank}]; d != nil {
		return d, nil
	}
	d, err := dagmpi.NewData[float64](x.rt, x.mb*c, rank, nil)
	s.up[[2]int{j, rank}] = d
	return d, err
}

// rowMove is one row of an interchange step: row dest ends with the row that
// was at src.
type rowMove struct{ dest, src int }

// swapMoves returns the net effect of the interchanges ipiv (row top+r with
// row ipiv[r], in increasing r, or decreasing if reverse) as the rows that
// change, sorted by dest. With ipiv[r] >= top+r, a row at or below
// top+len(ipiv) only ever receives a row that started above it, in
// [top, top+len(ipiv)), in either order.
func swapMoves(ipiv []int32, top int, reverse bool) []rowMove {
	at := make(map[int]int, 2*len(ipiv)) // row -> original row it holds
	get := func(r int) int {
		if v, ok := at[r]; ok {
			return v
		}
		return r
	}
	for s := range ipiv {
		r := s
		if reverse {
			r = len(ipiv) - 1 - s
		}
		x, y := top+r, int(ipiv[r])
		if x == y {
			continue
		}
		vx, vy := get(x), get(y)
		at[x], at[y] = vy, vx
	}
	out := make([]rowMove, 0, len(at))
	for d, src := range at {
		if d != src {
			out = append(out, rowMove{d, src})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dest < out[j].dest })
	return out
}

// rowsOf gives a task body the rows of the tiles (i, j), i >= k, that it
// holds: tile i-k, or nil.
type rowsOf struct {
	x    *Matrix
	k, j int
	bufs [][]float64
}

func (r *rowsOf) at(row, c int) *float64 {
	i := row / r.x.mb
	rows, _ := r.x.TileDims(i, r.j)
	return &r.bufs[i-r.k][row-i*r.x.mb+c*rows]
}

func (r *rowsOf) has(row int) bool { return r.bufs[row/r.x.mb-r.k] != nil }

// submit submits the interchanges of step k (pivots piv.steps[k]) on tile
// column j of x, in reverse order if reverse (to apply Pᵀ).
func (s *swapper) submit(j, k int, piv *Pivots, reverse bool, prio int) error {
	x := s.x
	pd, pr := piv.steps[k], piv.on[k]
	top := k * x.mb
	_, cols := x.TileDims(k, j)
	r0 := x.Owner(k, j)
	var others []int // other ranks holding tiles of column j below row k
	for i := k + 1; i < x.mt; i++ {
		if o := x.Owner(i, j); o != r0 && !slices.Contains(others, o) {
			others = append(others, o)
		}
	}
	sort.Ints(others)
	// tiles returns the body's view of the tiles of column j below k that
	// rank holds.
	tiles := func(tk *dagmpi.Task, rank int) *rowsOf {
		v := &rowsOf{x: x, k: k, j: j, bufs: make([][]float64, x.mt-k)}
		for i := k; i < x.mt; i++ {
			if x.Owner(i, j) == rank {
				v.bufs[i-k] = x.Tile(i, j).Buf(tk)
			}
		}
		return v
	}
	addTiles := func(t *luTask, rank int, write bool) {
		for i := k; i < x.mt; i++ {
			if x.Owner(i, j) != rank {
				continue
			}
			if write {
				t.readWrite(x.Tile(i, j), rank)
			} else {
				t.read(x.Tile(i, j), rank)
			}
		}
	}
	if len(others) == 0 {
		t := newLUTask(x, r0)
		t.read(pd, pr)
		addTiles(t, r0, true)
		return t.submit(prio, "laswp", func(tk *dagmpi.Task) error {
			ipiv := pd.Buf(tk)
			v := tiles(tk, r0)
			n := len(ipiv)
			// The two rows of each interchange, found once.
			type rowRef struct {
				buf     []float64
				off, ld int
			}
			ref := func(row int) rowRef {
				i := row / x.mb
				rows, _ := x.TileDims(i, j)
				return rowRef{v.bufs[i-k], row - i*x.mb, rows}
			}
			as, bs := make([]rowRef, 0, n), make([]rowRef, 0, n)
			for s := 0; s < n; s++ {
				r := s
				if reverse {
					r = n - 1 - s
				}
				if p := int(ipiv[r]); p != top+r {
					as, bs = append(as, ref(top+r)), append(bs, ref(p))
				}
			}
			// In blocks of columns, as LAPACK's DLASWP: each interchange
			// walks a few columns of its two rows while the lines of the
			// block row stay in cache (about twice as fast as one column at
			// a time over all interchanges).
			const block = 16
			for c0 := 0; c0 < cols; c0 += block {
				c1 := min(c0+block, cols)
				for q := range as {
					u, w := as[q].buf[as[q].off:], bs[q].buf[bs[q].off:]
					lu, lw := as[q].ld, bs[q].ld
					for c := c0; c < c1; c++ {
						u[c*lu], w[c*lw] = w[c*lw], u[c*lu]
					}
				}
			}
			return nil
		})
	}
	down, err := s.buffer(j, r0, true)
	if err != nil {
		return err
	}
	ups := make([]*dagmpi.Data[float64], len(others))
	for n, o := range others {
		if ups[n], err = s.buffer(j, o, false); err != nil {
			return err
		}
		o := o
		up := ups[n]
		t := newLUTask(x, o)
		t.read(pd, pr)
		addTiles(t, o, false)
		t.write(up)
		if err := t.submit(prio, "laswp-up", func(tk *dagmpi.Task) error {
			ipiv := pd.Buf(tk)
			v := tiles(tk, o)
			u := up.Buf(tk)
			np := len(ipiv)
			for _, mv := range swapMoves(ipiv, top, reverse) {
				if mv.dest < top+np && mv.src >= top+np && v.has(mv.src) {
					for c := 0; c < cols; c++ {
						u[mv.dest-top+c*np] = *v.at(mv.src, c)
					}
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	t := newLUTask(x, r0)
	t.read(pd, pr)
	for n, o := range others {
		t.read(ups[n], o)
	}
	addTiles(t, r0, true)
	t.write(down)
	if err := t.submit(prio, "laswp-mid", func(tk *dagmpi.Task) error {
		ipiv := pd.Buf(tk)
		v := tiles(tk, r0)
		np := len(ipiv)
		dn := down.Buf(tk)
		for c := 0; c < cols; c++ {
			for r := 0; r < np; r++ {
				dn[r+c*np] = *v.at(top+r, c)
			}
		}
		moves := swapMoves(ipiv, top, reverse)
		for _, mv := range moves {
			if mv.dest >= top+np {
				continue
			}
			// Block row k from its old rows, own tiles or another rank.
			switch {
			case mv.src < top+np:
				for c := 0; c < cols; c++ {
					*v.at(mv.dest, c) = dn[mv.src-top+c*np]
				}
			case v.has(mv.src):
				for c := 0; c < cols; c++ {
					*v.at(mv.dest, c) = *v.at(mv.src, c)
				}
			default:
				o := x.Owner(mv.src/x.mb, j)
				u := ups[slices.Index(others, o)].Buf(tk)
				for c := 0; c < cols; c++ {
					*v.at(mv.dest, c) = u[mv.dest-top+c*np]
				}
			}
		}
		for _, mv := range moves {
			if mv.dest >= top+np && v.has(mv.dest) {
				for c := 0; c < cols; c++ {
					*v.at(mv.dest, c) = dn[mv.src-top+c*np]
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	for _, o := range others {
		o := o
		t := newLUTask(x, o)
		t.read(pd, pr)
		t.read(down, r0)
		addTiles(t, o, true)
		if err := t.submit(prio, "laswp-down", func(tk *dagmpi.Task) error {
			ipiv := pd.Buf(tk)
			v := tiles(tk, o)
			np := len(ipiv)
			dn := down.Buf(tk)
			for _, mv := range swapMoves(ipiv, top, reverse) {
				if mv.dest >= top+np && v.has(mv.dest) {
					for c := 0; c < cols; c++ {
						*v.at(mv.dest, c) = dn[mv.src-top+c*np]
					}
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// Getrs solves op(A) X = B with the LU factorization of the n x n A and
// its pivots from Getrf, overwriting the n x nrhs B with X, as LAPACK
// DGETRS: trans blas.NoTrans solves A X = B (interchanges on B, then
// L Y = P B and U X = Y), blas.Trans solves Aᵀ X = B (Uᵀ Z = B, Lᵀ W = Z,
// X = Pᵀ W). B's row block size must be A's NB. It is collective and only
// submits tasks; Wait or Gather order after them.
func Getrs(trans blas.Transpose, a *Matrix, piv *Pivots, b *Matrix) error {
	if err := checkSquareTiles("Getrs", "A", a); err != nil {
		return err
	}
	if trans != blas.NoTrans && trans != blas.Trans && trans != blas.ConjTrans {
		return fmt.Errorf("blockcyclic: Getrs: trans %q: want blas.NoTrans or blas.Trans", rune(trans))
	}
	if piv == nil || piv.rt != a.rt || piv.m != a.m || piv.n != a.n || piv.nb != a.nb {
		return fmt.Errorf("blockcyclic: Getrs: the pivots are not those of this %d x %d matrix's factorization", a.m, a.n)
	}
	if b == nil {
		return fmt.Errorf("blockcyclic: Getrs: nil matrix B")
	}
	if b.rt != a.rt {
		return fmt.Errorf("blockcyclic: Getrs: A and B belong to different Runtimes")
	}
	if b.m != a.n || b.mb != a.nb {
		return fmt.Errorf("blockcyclic: Getrs: A is %d x %d in %d x %d tiles, B is %d x %d in %d x %d tiles: B needs %d rows in blocks of %d",
			a.m, a.n, a.mb, a.nb, b.m, b.n, b.mb, b.nb, a.n, a.nb)
	}
	wrap := func(err error) error {
		if err != nil {
			return fmt.Errorf("blockcyclic: Getrs: %w", err)
		}
		return nil
	}
	sw := newSwapper(b)
	pivots := func(reverse bool) error {
		if piv.kind == NoPivoting {
			return nil
		}
		for s := range piv.steps {
			k := s
			if reverse {
				k = len(piv.steps) - 1 - s
			}
			for j := 0; j < b.nt; j++ {
				if err := sw.submit(j, k, piv, reverse, len(piv.steps)-s); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if trans == blas.NoTrans {
		if err := pivots(false); err != nil {
			return wrap(err)
		}
		if err := Trsm(blas.Left, blas.Lower, blas.NoTrans, blas.Unit, 1, a, b); err != nil {
			return wrap(err)
		}
		return wrap(Trsm(blas.Left, blas.Upper, blas.NoTrans, blas.NonUnit, 1, a, b))
	}
	if err := Trsm(blas.Left, blas.Upper, blas.Trans, blas.NonUnit, 1, a, b); err != nil {
		return wrap(err)
	}
	if err := Trsm(blas.Left, blas.Lower, blas.Trans, blas.Unit, 1, a, b); err != nil {
		return wrap(err)
	}
	return wrap(pivots(true))
}

// Gesv solves A X = B for a general n x n A, as LAPACK DGESV: Getrf with
// partial pivoting, then Getrs. A is overwritten by its LU factors, B by X.
// If A is singular it returns Getrf's error on every rank (with the
// pivots) and leaves B as it was.
func Gesv(a, b *Matrix) (*Pivots, error) {
	if err := checkSquareTiles("Gesv", "A", a); err != nil {
		return nil, err
	}
	if b == nil || b.m != a.n || b.mb != a.nb {
		return nil, fmt.Errorf("blockcyclic: Gesv: B must have %d rows in blocks of %d", a.n, a.nb)
	}
	piv, err := Getrf(a, PartialPivoting)
	if err != nil {
		return piv, err
	}
	return piv, Getrs(blas.NoTrans, a, piv, b)
}

// MaxAbs returns the largest magnitude of the entries of a in part:
// blas.All, blas.Upper (i <= j, where U lies after Getrf) or blas.Lower
// (i >= j); NaN if one is NaN. It is collective: one task per rank reads
// that rank's tiles and takes the maximum with what the rank before it
// found, and every rank gets the result. Getrf's growth factor is
// MaxAbs(lu, blas.Upper) / MaxAbs(a, blas.All) (the latter before the
// factorization).
func MaxAbs(a *Matrix, part blas.Uplo) (float64, error) {
	if part != blas.All && part != blas.Upper && part != blas.Lower {
		return 0, fmt.Errorf("blockcyclic: MaxAbs: part %q: want blas.All, blas.Upper or blas.Lower", rune(part))
	}
	rt := a.rt
	acc, err := dagmpi.NewData[float64](rt, 1, 0, nil)
	if err != nil {
		return 0, err
	}
	me := rt.Rank()
	for r := 0; r < rt.Size(); r++ {
		prev := max(r-1, 0)
		if rt.Pruned() && me != r && me != prev {
			if err := acc.ProducedOn(r); err != nil {
				return 0, err
			}
			continue
		}
		var mine [][2]int
		args := []dagmpi.Arg{acc.ReadWrite(), dagmpi.OnRank(r), dagmpi.Name("maxabs")}
		for j := 0; j < a.nt; j++ {
			for i := 0; i < a.mt; i++ {
				if a.Owner(i, j) == r {
					mine = append(mine, [2]int{i, j})
					args = append(args, a.Tile(i, j).Read())
				}
			}
		}
		if err := rt.Submit(func(t *dagmpi.Task) error {
			v := acc.Buf(t)
			m := v[0]
			for _, ij := range mine {
				i, j := ij[0], ij[1]
				buf := a.Tile(i, j).Buf(t)
				rows, cols := a.TileDims(i, j)
				r0, c0 := i*a.mb, j*a.nb
				if part == blas.All || part == blas.Upper && r0+rows-1 <= c0 || part == blas.Lower && r0 >= c0+cols-1 {
					// The whole tile is in part.
					for _, x := range buf[:rows*cols] {
						if e := math.Abs(x); e > m || math.IsNaN(e) {
							m = e
						}
					}
					continue
				}
				for c := 0; c < cols; c++ {
					for x := 0; x < rows; x++ {
						gi, gj := i*a.mb+x, j*a.nb+c
						if part == blas.Upper && gi > gj || part == blas.Lower && gi < gj {
							continue
						}
						if e := math.Abs(buf[x+c*rows]); e > m || math.IsNaN(e) {
							m = e
						}
					}
				}
			}
			v[0] = m
			return nil
		}, args...); err != nil {
			return 0, err
		}
	}
	v, err := acc.FetchAll()
	if err != nil {
		return 0, err
	}
	return v[0], nil
}
