package blockcyclic

import (
	"fmt"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Tile QR (Buttari, Langou, Kurzak, Dongarra; PLASMA) as a task graph, with
// the hierarchical reduction tree of DPLASMA's HQR.
//
// Step k factors tile column k. Its tiles (i, k), i >= k, are grouped by
// the rank that owns them (on a Cyclic2D: by process row). In each group
// the first tile, the group's head, is factored by GEQRT (R on top, V below
// the diagonal) and every other tile of the group is eliminated into it by
// TS kernels (TPQRT with l = 0: a triangle on top of a square), in order:
// a flat tree, all on one rank. The heads are then reduced by a binary tree
// of TT kernels (TPQRT with l = n: a triangle on top of a triangle), across
// ranks, whose V overwrites the killed head's R (its upper triangle; its
// GEQRT V stays below the diagonal). Each kernel's transformation is applied
// to the tiles to the right, (i, j) for j > k, by GEMQRT or TPMQRT.
//
// Owner computes: a kernel that reads-writes two tiles runs on the owner
// of the tile it eliminates (the lower one), which also owns the T factor;
// the upper tile moves there and, by an empty task, back to its owner, so
// that every tile lives on its owner between steps (Gather and pruned
// submission rely on it). Within a group both tiles of a row have the same
// owner on a Cyclic2D, so only the TT kernels move tiles.
//
// Priorities: tasks on tile column j outrank those on columns further
// right (2 (nt - j)), and the factorization of a panel outranks updates of
// its own column (+1), so the next panel goes first (look-ahead).

// QRTree chooses Geqrf's reduction tree.
type QRTree int

const (
	// HierarchicalTree: a flat tree of TS kernels within each rank's tiles
	// of a column, then a binary tree of TT kernels across ranks (HQR). On
	// a 1 x Q grid it is the flat tree.
	HierarchicalTree QRTree = iota
	// FlatTree: every tile below the diagonal eliminated into the diagonal
	// tile by TS kernels, in order (PLASMA's original tile QR). Across
	// ranks it moves the diagonal tile's row for every elimination.
	FlatTree
)

// QROptions are Geqrf's and Gels's tuning knobs; nil means the defaults.
type QROptions struct {
	// IB is the inner block size of the compact-WY kernels (the T factors
	// are IB x NB tiles); 0 means min(NB, 32) below NB = 256 and 64 from
	// there: a larger IB makes the updates (TSMQR, the bulk of the work)
	// more efficient, about 0.85 of DGEMM's rate at NB = 384, IB = 64
	// against 0.7 at IB = 32, and the panel kernels (TSQRT) slower, which
	// matters less (see the QR benchmarks of package kernels).
	IB int
	// Tree is the reduction tree of TileQR; the zero value is
	// HierarchicalTree.
	Tree QRTree
	// Algorithm is TileQR (the zero value) or PanelQR, which ignores IB
	// and Tree.
	Algorithm QRAlgorithm
}

// QRFactors is a QR factorization from Geqrf: A = Q R, Q a product of
// Householder reflectors kept as their vectors (in A) and the triangular
// factors of their compact-WY blocks (in T and TT), as the tile kernels of
// package kernels left them.
type QRFactors struct {
	// A is the matrix given to Geqrf, factored in place: R on and above the
	// diagonal (upper trapezoidal if m < n); below it, and in the upper
	// triangle of tiles eliminated by TT kernels, the Householder vectors.
	A *Matrix
	// T holds the T factors of the GEQRT and TS kernels, TT those of the TT
	// kernels: tile (i, k) belongs to the kernel that eliminated (or, for
	// GEQRT, factored) tile (i, k) of A. Both are (mt*IB) x n matrices of
	// IB x NB tiles with A's distribution.
	//
	// With PanelQR, T is an NB x n matrix of NB x NB tiles whose tile
	// (0, k) holds panel k's K x K T factor (leading dimension K, K the
	// panel's number of reflectors), and TT is nil.
	T, TT *Matrix
	// IB is the inner block size the kernels used.
	IB int

	plan   [][]qrOp // TileQR: step k's kernels, in order
	panels int      // PanelQR: the number of panels (0 for TileQR)
}

type qrKind uint8

const (
	qrGeqrt qrKind = iota // factor tile (row, k) (row = top)
	qrTS                  // eliminate the square tile (row, k) into (top, k)
	qrTT                  // eliminate the triangle (row, k) into (top, k)
)

type qrOp struct {
	kind     qrKind
	top, row int
}

// qrPlan returns step k's kernels in order for an mt-row tile column.
func qrPlan(a *Matrix, k int, tree QRTree) []qrOp {
	var ops []qrOp
	if tree == FlatTree {
		ops = append(ops, qrOp{qrGeqrt, k, k})
		for i := k + 1; i < a.mt; i++ {
			ops = append(ops, qrOp{qrTS, k, i})
		}
		return ops
	}
	// Groups by owner, in the order of their first tile.
	var heads []int
	group := map[int]int{} // owner -> head row
	for i := k; i < a.mt; i++ {
		o := a.Owner(i, k)
		h, ok := group[o]
		if !ok {
			group[o] = i
			heads = append(heads, i)
			ops = append(ops, qrOp{qrGeqrt, i, i})
			continue
		}
		ops = append(ops, qrOp{qrTS, h, i})
	}
	for s := 1; s < len(heads); s *= 2 {
		for x := 0; x+s < len(heads); x += 2 * s {
			ops = append(ops, qrOp{qrTT, heads[x], heads[x+s]})
		}
	}
	return ops
}

// Geqrf computes the QR factorization A = Q R of the m x n matrix a in
// place, as LAPACK DGEQRF but in tile form: R on and above the diagonal,
// Q as Householder vectors below it and in the returned factors, which
// Ormqr applies. a must have square tiles (MB_ = NB_); any m and n. It is
// collective and only submits the task graph (tile QR by default, see the
// comment at the top of qr.go; PanelQR, see qr_panel.go); Wait, Gather or
// later tasks order after it. opts may be nil.
func Geqrf(a *Matrix, opts *QROptions) (*QRFactors, error) {
	if a == nil {
		return nil, fmt.Errorf("blockcyclic: Geqrf: nil matrix A")
	}
	if a.mb != a.nb {
		return nil, fmt.Errorf("blockcyclic: Geqrf: A has %d x %d tiles, want square tiles (MB_ = NB_)", a.mb, a.nb)
	}
	var o QROptions
	if opts != nil {
		o = *opts
	}
	if o.IB < 0 {
		return nil, fmt.Errorf("blockcyclic: Geqrf: inner block size IB = %d must not be negative", o.IB)
	}
	if o.IB == 0 {
		o.IB = min(a.nb, 32)
		if a.nb >= 256 {
			o.IB = 64
		}
	}
	if o.Tree != HierarchicalTree && o.Tree != FlatTree {
		return nil, fmt.Errorf("blockcyclic: Geqrf: unknown reduction tree %d", o.Tree)
	}
	switch o.Algorithm {
	case TileQR:
	case PanelQR:
		return geqrfPanel(a)
	default:
		return nil, fmt.Errorf("blockcyclic: Geqrf: unknown algorithm %d", o.Algorithm)
	}
	ib := o.IB
	t, err := NewMatrix(a.rt, a.mt*ib, a.n, ib, a.nb, a.dist)
	if err != nil {
		return nil, fmt.Errorf("blockcyclic: Geqrf: T factors: %w", err)
	}
	tt, err := NewMatrix(a.rt, a.mt*ib, a.n, ib, a.nb, a.dist)
	if err != nil {
		return nil, fmt.Errorf("blockcyclic: Geqrf: TT factors: %w", err)
	}
	f := &QRFactors{A: a, T: t, TT: tt, IB: ib}
	kt := min(a.mt, a.nt)
	f.plan = make([][]qrOp, kt)
	nt := a.nt
	for k := 0; k < kt; k++ {
		f.plan[k] = qrPlan(a, k, o.Tree)
		_, ck := a.TileDims(k, k)
		for _, op := range f.plan[k] {
			h, i := op.top, op.row
			ri, _ := a.TileDims(i, k)
			top, v := tileRef{a, h, k}, tileRef{a, i, k}
			switch op.kind {
			case qrGeqrt:
				tf := tileRef{t, i, k}
				if err := submitQR([]tileRef{v}, []tileRef{tf}, nil, 2*(nt-k)+1, "geqrt", func(tk *dagmpi.Task) error {
					av, lda := v.buf(tk)
					kernels.Geqrt(ri, ck, ib, av, lda, tf.m.Tile(tf.i, tf.j).Buf(tk), ib)
					return nil
				}); err != nil {
					return nil, err
				}
				for j := k + 1; j < nt; j++ {
					c := tileRef{a, i, j}
					_, cj := a.TileDims(i, j)
					if err := submitQR([]tileRef{c}, nil, []tileRef{v, tf}, 2*(nt-j), "unmqr", func(tk *dagmpi.Task) error {
						cv, ldc := c.buf(tk)
						av, lda := v.buf(tk)
						kernels.Gemqrt(blas.Left, blas.Trans, ri, cj, min(ri, ck), ib, av, lda, tf.m.Tile(tf.i, tf.j).Buf(tk), ib, cv, ldc)
						return nil
					}); err != nil {
						return nil, err
					}
				}
			case qrTS, qrTT:
				tm, l, name, uname := t, 0, "tsqrt", "tsmqr"
				mm := ri
				if op.kind == qrTT {
					mm = min(ri, ck)
					tm, l, name, uname = tt, mm, "ttqrt", "ttmqr"
				}
				tf := tileRef{tm, i, k}
				if err := submitQR([]tileRef{v, top}, []tileRef{tf}, nil, 2*(nt-k)+1, name, func(tk *dagmpi.Task) error {
					bv, ldb := v.buf(tk)
					av, lda := top.buf(tk)
					kernels.Tpqrt(mm, ck, l, ib, av, lda, bv, ldb, tf.m.Tile(tf.i, tf.j).Buf(tk), ib)
					return nil
				}); err != nil {
					return nil, err
				}
				for j := k + 1; j < nt; j++ {
					ca, cb := tileRef{a, h, j}, tileRef{a, i, j}
					_, cj := a.TileDims(i, j)
					if err := submitQR([]tileRef{cb, ca}, nil, []tileRef{v, tf}, 2*(nt-j), uname, func(tk *dagmpi.Task) error {
						bv, ldb := cb.buf(tk)
						av, lda := ca.buf(tk)
						vv, ldv := v.buf(tk)
						kernels.Tpmqrt(blas.Left, blas.Trans, mm, cj, ck, l, ib, vv, ldv, tf.m.Tile(tf.i, tf.j).Buf(tk), ib, av, lda, bv, ldb)
						return nil
					}); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return f, nil
}

// submitQR submits body as a task that read-writes the tiles ws, writes
// the tiles outs without reading them and reads the tiles rs. It runs on
// the owner of ws[0]; every other tile it writes is then moved back to its
// owner by an empty task, so that tiles stay on their owners. With a pruned
// Runtime a rank that neither runs it nor holds a tile it reads leaves it
// out and declares where the tiles it writes went.
func submitQR(ws, outs, rs []tileRef, prio int, name string, body func(*dagmpi.Task) error) error {
	w0 := ws[0]
	rt := w0.m.rt
	runner := w0.m.Owner(w0.i, w0.j)
	from := make([]int, 0, 4)
	for _, r := range ws[1:] {
		from = append(from, r.m.Owner(r.i, r.j))
	}
	for _, r := range rs {
		from = append(from, r.m.Owner(r.i, r.j))
	}
	if w0.m.involved(runner, from...) {
		args := make([]dagmpi.Arg, 0, len(ws)+len(outs)+len(rs)+3)
		for _, w := range ws {
			args = append(args, w.m.Tile(w.i, w.j).ReadWrite())
		}
		for _, w := range outs {
			args = append(args, w.m.Tile(w.i, w.j).Write())
		}
		for _, r := range rs {
			args = append(args, r.m.Tile(r.i, r.j).Read())
		}
		args = append(args, dagmpi.OnRank(runner), dagmpi.Priority(prio), dagmpi.Name(name))
		if err := rt.Submit(body, args...); err != nil {
			return err
		}
	} else {
		for _, w := range append(ws[:len(ws):len(ws)], outs...) {
			if err := w.m.producedOn(w.i, w.j, runner); err != nil {
				return err
			}
		}
	}
	for _, w := range append(ws[1:len(ws):len(ws)], outs...) {
		home := w.m.Owner(w.i, w.j)
		if home == runner {
			continue
		}
		d := w.m.Tile(w.i, w.j)
		var err error
		if w.m.involved(home, runner) {
			err = rt.Submit(noop, d.ReadWrite(), dagmpi.OnRank(home), dagmpi.Priority(prio), dagmpi.Name("qr-return"))
		} else {
			err = d.ProducedOn(home)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Ormqr overwrites c with op(Q) c (side blas.Left) or c op(Q) (blas.Right)
// for the Q of f, as LAPACK DORMQR: op(Q) is Q (blas.NoTrans) or Qᵀ
// (blas.Trans). Q is m x m for f's m x n A, so c has m rows in blocks of
// A's NB (left) or m columns in blocks of NB (right), any other size. It is
// collective and only submits tasks (GEMQRT and TPMQRT kernels on c's
// tiles, owner computes).
func Ormqr(side blas.Side, trans blas.Transpose, f *QRFactors, c *Matrix) error {
	if side != blas.Left && side != blas.Right {
		return fmt.Errorf("blockcyclic: Ormqr: side %q: want blas.Left or blas.Right", rune(side))
	}
	switch trans {
	case blas.NoTrans, blas.Trans:
	case blas.ConjTrans:
		trans = blas.Trans
	default:
		return fmt.Errorf("blockcyclic: Ormqr: trans %q: want blas.NoTrans or blas.Trans", rune(trans))
	}
	if f == nil || f.A == nil {
		return fmt.Errorf("blockcyclic: Ormqr: nil factors")
	}
	if c == nil {
		return fmt.Errorf("blockcyclic: Ormqr: nil matrix C")
	}
	a := f.A
	if c.rt != a.rt {
		return fmt.Errorf("blockcyclic: Ormqr: A and C belong to different Runtimes")
	}
	left := side == blas.Left
	if left && (c.m != a.m || c.mb != a.mb) {
		return fmt.Errorf("blockcyclic: Ormqr: side Left: C is %d x %d in %d x %d tiles, needs %d rows in blocks of %d (Q of a %d x %d A)",
			c.m, c.n, c.mb, c.nb, a.m, a.mb, a.m, a.n)
	}
	if !left && (c.n != a.m || c.nb != a.mb) {
		return fmt.Errorf("blockcyclic: Ormqr: side Right: C is %d x %d in %d x %d tiles, needs %d columns in blocks of %d (Q of a %d x %d A)",
			c.m, c.n, c.mb, c.nb, a.m, a.mb, a.m, a.n)
	}
	if f.panels > 0 {
		return ormqrPanel(side, trans, f, c)
	}
	type step struct {
		k  int
		op qrOp
	}
	var steps []step
	for k, ops := range f.plan {
		for _, op := range ops {
			steps = append(steps, step{k, op})
		}
	}
	// Qᵀ from the left and Q from the right apply the kernels in the order
	// of the factorization, the others in reverse.
	if left != (trans == blas.Trans) {
		for x, y := 0, len(steps)-1; x < y; x, y = x+1, y-1 {
			steps[x], steps[y] = steps[y], steps[x]
		}
	}
	ib := f.IB
	nc := c.nt // tiles of C each kernel touches: a tile row (left) or column (right)
	if !left {
		nc = c.mt
	}
	// cTile is C's tile at A-row r and position j along the other dimension.
	cTile := func(r, j int) tileRef {
		if left {
			return tileRef{c, r, j}
		}
		return tileRef{c, j, r}
	}
	for s, st := range steps {
		k, op := st.k, st.op
		h, i := op.top, op.row
		_, ck := a.TileDims(k, k)
		ri, _ := a.TileDims(i, k)
		v := tileRef{a, i, k}
		prio := len(steps) - s
		for j := 0; j < nc; j++ {
			switch op.kind {
			case qrGeqrt:
				tf := tileRef{f.T, i, k}
				w := cTile(i, j)
				if err := submitQR([]tileRef{w}, nil, []tileRef{v, tf}, prio, "ormqr", func(tk *dagmpi.Task) error {
					cv, ldc := w.buf(tk)
					av, lda := v.buf(tk)
					m, n := c.TileDims(w.i, w.j)
					kernels.Gemqrt(side, trans, m, n, min(ri, ck), ib, av, lda, tf.m.Tile(tf.i, tf.j).Buf(tk), ib, cv, ldc)
					return nil
				}); err != nil {
					return err
				}
			default:
				tm, l := f.T, 0
				mm := ri
				if op.kind == qrTT {
					mm = min(ri, ck)
					tm, l = f.TT, mm
				}
				tf := tileRef{tm, i, k}
				wb, wa := cTile(i, j), cTile(h, j)
				if err := submitQR([]tileRef{wb, wa}, nil, []tileRef{v, tf}, prio, "ormqr-tp", func(tk *dagmpi.Task) error {
					bv, ldb := wb.buf(tk)
					av, lda := wa.buf(tk)
					vv, ldv := v.buf(tk)
					m, n := c.TileDims(wb.i, wb.j)
					if left {
						m = mm
					} else {
						n = mm
					}
					kernels.Tpmqrt(side, trans, m, n, ck, l, ib, vv, ldv, tf.m.Tile(tf.i, tf.j).Buf(tk), ib, av, lda, bv, ldb)
					return nil
				}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Gels solves overdetermined or underdetermined systems with the m x n
// matrix a of full rank, as LAPACK DGELS and ScaLAPACK PDGELS, for op(A)
// = A (trans blas.NoTrans) or Aᵀ (blas.Trans; blas.ConjTrans is
// blas.Trans):
//
//   - op(A) tall (at least as many rows as columns): the least squares
//     solution, min ||op(A) X - B||_F;
//   - op(A) wide: the minimum norm solution of op(A) X = B (of all
//     solutions, the one of least ||X||_F).
//
// It factors whichever of A and Aᵀ is tall, F = Q R with Geqrf (A itself
// when m >= n, overwriting a; otherwise Aᵀ = Transpose(a, nil), a copy on
// the transposed layout, and a is left unchanged). When op(A) = F it
// solves R X = (Qᵀ B)(0:k, :) (Ormqr, then Trsm), when op(A) = Fᵀ it
// solves Rᵀ Y = B(0:k, :) (Trsm) and forms X = Q [Y; 0] (Ormqr); k is
// min(m, n).
//
// a must have square tiles; b is max(m, n) x nrhs with row blocks of A's
// NB (any column block size and distribution, on a's Runtime), as
// LAPACK's B with LDB >= max(m, n): on entry its first rows hold the right
// hand sides (m of them for blas.NoTrans, n for blas.Trans), on return its
// first rows hold X (n rows for blas.NoTrans, m for blas.Trans). In the
// least squares case the rows after X hold the residual's components
// (their sum of squares is the residual's, column by column); in the
// minimum norm case b's rows after the right hand sides are not read. An
// empty problem (k = 0) leaves b as it is for least squares (B is its own
// residual) and zeroes it for minimum norm (X = 0); LAPACK zeroes B in
// both. Unlike DGELS, Gels does not scale A or B whose largest entry is
// near underflow or overflow.
//
// It is collective. If R has an exactly zero diagonal entry (A is rank
// deficient) every rank returns an error wrapping a *kernels.SingularError
// whose Index is LAPACK's INFO (the 1-based position) and b's contents are
// unspecified; otherwise it returns without waiting for the solve.
func Gels(trans blas.Transpose, a, b *Matrix, opts *QROptions) error {
	switch trans {
	case blas.NoTrans, blas.Trans:
	case blas.ConjTrans:
		trans = blas.Trans
	default:
		return fmt.Errorf("blockcyclic: Gels: trans %q: want blas.NoTrans or blas.Trans", rune(trans))
	}
	if a == nil {
		return fmt.Errorf("blockcyclic: Gels: nil matrix A")
	}
	if b == nil {
		return fmt.Errorf("blockcyclic: Gels: nil matrix B")
	}
	if b.rt != a.rt {
		return fmt.Errorf("blockcyclic: Gels: A and B belong to different Runtimes")
	}
	if a.mb != a.nb {
		return fmt.Errorf("blockcyclic: Gels: A has %d x %d tiles, want square tiles (MB_ = NB_)", a.mb, a.nb)
	}
	rows := max(a.m, a.n)
	if b.m != rows || b.mb != a.nb {
		return fmt.Errorf("blockcyclic: Gels: A is %d x %d in %d x %d tiles, B is %d x %d in %d x %d tiles: B needs max(m, n) = %d rows in blocks of %d",
			a.m, a.n, a.mb, a.nb, b.m, b.n, b.mb, b.nb, rows, a.nb)
	}
	// F is the tall one of A and Aᵀ.
	f := a
	if a.m < a.n {
		at, err := Transpose(a, nil)
		if err != nil {
			return fmt.Errorf("blockcyclic: Gels: %w", err)
		}
		f = at
	}
	leastSquares := (trans == blas.NoTrans) == (a.m >= a.n) // op(A) = F
	qr, err := Geqrf(f, opts)
	if err != nil {
		return fmt.Errorf("blockcyclic: Gels: %w", err)
	}
	k := f.n
	if leastSquares {
		if err := Ormqr(blas.Left, blas.Trans, qr, b); err != nil {
			return fmt.Errorf("blockcyclic: Gels: %w", err)
		}
		if k == 0 {
			return nil // X is empty; B is its own residual
		}
	} else if k == 0 {
		// The minimum norm solution of an empty system is zero.
		for j := 0; j < b.nt; j++ {
			for i := 0; i < b.mt; i++ {
				if err := submitPad(tileRef{b, i, j}, nil, "gels-zero"); err != nil {
					return err
				}
			}
		}
		return nil
	}
	r, err := upperR(f, k)
	if err != nil {
		return err
	}
	// The first k rows of B (of Qᵀ B in the least squares case) as a
	// matrix of their own, since B's tile row at k may hold more rows.
	x, err := NewMatrix(a.rt, k, b.n, f.nb, b.nb, b.dist)
	if err != nil {
		return fmt.Errorf("blockcyclic: Gels: X: %w", err)
	}
	for j := 0; j < x.nt; j++ {
		for i := 0; i < x.mt; i++ {
			if err := submitCopy(tileRef{x, i, j}, tileRef{b, i, j}, "gels-x", nil); err != nil {
				return err
			}
		}
	}
	rtrans := blas.NoTrans // R X = (Qᵀ B)(0:k, :)
	if !leastSquares {
		rtrans = blas.Trans // Rᵀ Y = B(0:k, :)
	}
	if err := Trsm(blas.Left, blas.Upper, rtrans, blas.NonUnit, 1, r, x); err != nil {
		return fmt.Errorf("blockcyclic: Gels: %w", err)
	}
	if leastSquares {
		for j := 0; j < x.nt; j++ {
			for i := 0; i < x.mt; i++ {
				if err := submitCopy(tileRef{b, i, j}, tileRef{x, i, j}, "gels-back", nil); err != nil {
					return err
				}
			}
		}
		return nil
	}
	// B = [Y; 0], then X = Q B.
	for j := 0; j < b.nt; j++ {
		for i := 0; i < b.mt; i++ {
			var src *tileRef
			if i < x.mt {
				src = &tileRef{x, i, j}
			}
			if err := submitPad(tileRef{b, i, j}, src, "gels-back"); err != nil {
				return err
			}
		}
	}
	if err := Ormqr(blas.Left, blas.NoTrans, qr, b); err != nil {
		return fmt.Errorf("blockcyclic: Gels: %w", err)
	}
	return nil
}

// upperR returns the leading k x k upper triangle R of the factored f as a
// matrix of its own (f's last tile row may hold more than k rows), after
// every rank agreed that R has no exactly zero diagonal entry, as DTRTRS
// checks; otherwise every rank returns the error wrapping a
// *kernels.SingularError. The copies of the tiles below the diagonal carry
// Householder vectors along, which the triangular solves do not read.
func upperR(f *Matrix, k int) (*Matrix, error) {
	nb := f.nb
	r, err := NewMatrix(f.rt, k, k, nb, nb, f.dist)
	if err != nil {
		return nil, fmt.Errorf("blockcyclic: Gels: R: %w", err)
	}
	var failed atomic.Int64 // this rank's first zero on R's diagonal, 1-based
	for j := 0; j < r.nt; j++ {
		for i := 0; i < j; i++ {
			if err := submitCopy(tileRef{r, i, j}, tileRef{f, i, j}, "gels-r", nil); err != nil {
				return nil, err
			}
		}
		// The diagonal tile's copy also looks for exact zeros on R's
		// diagonal; agreeInfo below reads it after.
		j0 := j * nb
		if err := submitCopy(tileRef{r, j, j}, tileRef{f, j, j}, "gels-r", func(buf []float64, ld int) {
			rows, _ := r.TileDims(j, j)
			for q := 0; q < rows; q++ {
				if buf[q+q*ld] == 0 {
					col := int64(j0 + q + 1)
					for {
						cur := failed.Load()
						if (cur != 0 && cur <= col) || failed.CompareAndSwap(cur, col) {
							break
						}
					}
					break
				}
			}
		}); err != nil {
			return nil, err
		}
	}
	col, err := agreeInfo(r, &failed)
	if err != nil {
		return nil, err
	}
	if col != 0 {
		return nil, fmt.Errorf("blockcyclic: Gels: A does not have full rank: %w", &kernels.SingularError{Index: col, N: k})
	}
	return r, nil
}

// submitPad overwrites dst's tile with the rows of src's tile (nil: none)
// and zeros below them; it runs on dst's owner.
func submitPad(dst tileRef, src *tileRef, name string) error {
	var rs []tileRef
	if src != nil {
		rs = []tileRef{*src}
	}
	return submitTile(dst, rs, 0, name, func(tk *dagmpi.Task) error {
		d, ldd := dst.buf(tk)
		rd, cd := dst.m.TileDims(dst.i, dst.j)
		top := 0
		if src != nil {
			s, lds := src.buf(tk)
			top, _ = src.m.TileDims(src.i, src.j)
			kernels.Lacpy(blas.All, top, cd, s, lds, d, ldd)
		}
		if top < rd {
			kernels.Laset(blas.All, rd-top, cd, 0, 0, d[top:], ldd)
		}
		return nil
	})
}

// submitCopy copies the top-left part of src that fits dst's tile into it
// (the two tiles are the same size but for rows); it runs on dst's owner.
// then, if not nil, is called on dst's buffer after the copy.
func submitCopy(dst, src tileRef, name string, then func(buf []float64, ld int)) error {
	return submitTile(dst, []tileRef{src}, 0, name, func(tk *dagmpi.Task) error {
		d, ldd := dst.buf(tk)
		s, lds := src.buf(tk)
		rd, cd := dst.m.TileDims(dst.i, dst.j)
		rs, _ := src.m.TileDims(src.i, src.j)
		kernels.Lacpy(blas.All, min(rd, rs), cd, s, lds, d, ldd)
		if then != nil {
			then(d, ldd)
		}
		return nil
	})
}
