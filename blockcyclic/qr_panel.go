package blockcyclic

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Panel QR: right-looking blocked Householder QR, LAPACK's DGEQRF and
// ScaLAPACK's PDGEQRF as a task graph (the PanelQR algorithm).
//
// Step k factors the whole panel, tile column k from the diagonal down,
// as one tall m_k x nb block with LAPACK's DGEQRT (one T factor for the
// panel, K = min(m_k, nb) reflectors) on the rank that owns the diagonal
// tile; the panel's tiles on other ranks travel there and back. The
// panel's block reflector Q_k = I - V T Vᵀ is then applied to each tile
// column j on its right in three stages of tile tasks, as DLARFB does:
//
//	W  = V_kᵀ C_kj + Σ_{i>k} V_iᵀ C_ij   (a chain of tile GEMMs, on the owners of C's tiles)
//	W  = Tᵀ W                            (on the owner of C_kj)
//	C_ij -= V_i W                        (one GEMM per tile, on its owner)
//
// W is a K x nb Data per tile column j, reused by every panel, that moves
// along the chain (only between process rows: the chain visits one
// owner's tiles before the next).
// Unlike tile QR's TSMQR kernels, whose inner block IB keeps their GEMMs
// small, every update here is an nb x nb x nb GEMM, at DGEMM's rate; the
// price is a panel factorization on one rank, on the critical path, which
// the priorities (panel first, then the next panel's column) overlap with
// the trailing updates. On a 1 x Q grid the rank holding the last tile
// columns does the most updates; an nb that leaves a narrow last tile
// column evens the ranks out (at N = 8192 on 1 x 2, nb 528 rather than
// 512: see bench/results/la.md).

// QRAlgorithm chooses how Geqrf factors the matrix.
type QRAlgorithm int

const (
	// TileQR is tile QR (PLASMA, DPLASMA's HQR): per-tile kernels and a
	// reduction tree (QROptions.Tree).
	TileQR QRAlgorithm = iota
	// PanelQR is right-looking blocked Householder QR (LAPACK, ScaLAPACK):
	// a whole panel at a time, updates by tile GEMMs.
	PanelQR
)

// dataAcc is one Data a task accesses, the rank its current version is on
// and the access: 'r' read, 'w' write only, 'm' read-write.
type dataAcc struct {
	d    *dagmpi.Data[float64]
	at   int
	mode byte
}

func tileAcc(m *Matrix, i, j int, mode byte) dataAcc {
	return dataAcc{m.Tile(i, j), m.Owner(i, j), mode}
}

// submitAt submits body on rank runner with the accesses accs. With a
// pruned Runtime a rank that neither runs it nor holds a version it reads
// leaves it out and declares runner as the producer of what it writes.
func submitAt(rt *dagmpi.Runtime, runner int, accs []dataAcc, prio int, name string, body func(*dagmpi.Task) error) error {
	me := rt.Rank()
	involved := !rt.Pruned() || me == runner
	for _, x := range accs {
		if x.mode != 'w' && x.at == me {
			involved = true
		}
	}
	if !involved {
		for _, x := range accs {
			if x.mode != 'r' {
				if err := x.d.ProducedOn(runner); err != nil {
					return err
				}
			}
		}
		return nil
	}
	args := make([]dagmpi.Arg, 0, len(accs)+3)
	for _, x := range accs {
		switch x.mode {
		case 'r':
			args = append(args, x.d.Read())
		case 'w':
			args = append(args, x.d.Write())
		default:
			args = append(args, x.d.ReadWrite())
		}
	}
	args = append(args, dagmpi.OnRank(runner), dagmpi.Priority(prio), dagmpi.Name(name))
	return rt.Submit(body, args...)
}

// returnHome moves d, whose latest version is on rank at, back to rank
// home by an empty task.
func returnHome(rt *dagmpi.Runtime, d *dagmpi.Data[float64], at, home, prio int) error {
	if at == home {
		return nil
	}
	return submitAt(rt, home, []dataAcc{{d, at, 'm'}}, prio, "qr-return", noop)
}

// panelK returns panel k's number of reflectors and the rows and columns
// of its diagonal tile.
func panelK(a *Matrix, k int) (kr, rk, ck int) {
	rk, ck = a.TileDims(k, k)
	return min(a.m-k*a.nb, ck), rk, ck
}

func geqrfPanel(a *Matrix) (*QRFactors, error) {
	t, err := NewMatrix(a.rt, a.nb, a.n, a.nb, a.nb, a.dist)
	if err != nil {
		return nil, fmt.Errorf("blockcyclic: Geqrf: T factors: %w", err)
	}
	f := &QRFactors{A: a, T: t, IB: a.nb, panels: min(a.mt, a.nt)}
	rt, nt := a.rt, a.nt
	ws := wStore{}
	for k := 0; k < f.panels; k++ {
		kr, _, ck := panelK(a, k)
		runner := a.Owner(k, k)
		accs := make([]dataAcc, 0, a.mt-k+1)
		for i := k; i < a.mt; i++ {
			accs = append(accs, tileAcc(a, i, k, 'm'))
		}
		accs = append(accs, tileAcc(t, 0, k, 'w'))
		k := k
		prio := 2*(nt-k) + 1
		if err := submitAt(rt, runner, accs, prio, "geqrt-panel", func(tk *dagmpi.Task) error {
			mk := a.m - k*a.nb
			buf := make([]float64, mk*ck)
			off := 0
			for i := k; i < a.mt; i++ {
				v, ld := tileRef{a, i, k}.buf(tk)
				ri, _ := a.TileDims(i, k)
				kernels.Lacpy(blas.All, ri, ck, v, ld, buf[off:], mk)
				off += ri
			}
			kernels.Geqrt(mk, ck, kr, buf, mk, t.Tile(0, k).Buf(tk), kr)
			off = 0
			for i := k; i < a.mt; i++ {
				v, ld := tileRef{a, i, k}.buf(tk)
				ri, _ := a.TileDims(i, k)
				kernels.Lacpy(blas.All, ri, ck, buf[off:], mk, v, ld)
				off += ri
			}
			return nil
		}); err != nil {
			return nil, err
		}
		for i := k; i < a.mt; i++ {
			if err := returnHome(rt, a.Tile(i, k), runner, a.Owner(i, k), prio); err != nil {
				return nil, err
			}
		}
		if err := returnHome(rt, t.Tile(0, k), runner, t.Owner(0, k), prio); err != nil {
			return nil, err
		}
		for j := k + 1; j < nt; j++ {
			if err := applyPanel(f, k, blas.Left, blas.Trans, a, j, 2*(nt-j), ws); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

// wStore holds the W workspace of each tile column (or row) of C, reused
// by every panel: panel k+1's W chain on column j reads C's tiles that
// panel k's updates wrote after reading W, so the reuse orders nothing
// that the data did not order already, and the job keeps one W per column
// instead of one per (panel, column).
type wStore map[int]*dagmpi.Data[float64]

func (ws wStore) get(rt *dagmpi.Runtime, j, n, home int) (*dagmpi.Data[float64], error) {
	if w, ok := ws[j]; ok {
		return w, nil
	}
	w, err := dagmpi.NewData[float64](rt, n, home, nil)
	if err != nil {
		return nil, err
	}
	ws[j] = w
	return w, nil
}

// applyPanel applies panel k's block reflector, op(Q_k) = op(I - V T Vᵀ),
// to C's tile column j (side blas.Left: C_ij for A's row tiles i >= k) or
// tile row j (blas.Right: C_ji), with the W workspace of ws.
func applyPanel(f *QRFactors, k int, side blas.Side, trans blas.Transpose, c *Matrix, j, prio int, ws wStore) error {
	a, rt := f.A, f.A.rt
	kr, rk, _ := panelK(a, k)
	left := side == blas.Left
	// ct is C's tile at A-row tile i; its size along the other dimension is
	// oth, along A's rows ri.
	ct := func(i int) (int, int) {
		if left {
			return i, j
		}
		return j, i
	}
	var oth int
	if left {
		_, oth = c.TileDims(k, j)
	} else {
		oth, _ = c.TileDims(j, k)
	}
	if oth == 0 || kr == 0 {
		return nil
	}
	ci, cj := ct(k)
	home := c.Owner(ci, cj)
	w, err := ws.get(rt, j, a.nb*oth, home) // written first below: its location does not matter
	if err != nil {
		return err
	}
	ldw := kr // left: W is kr x oth; right: oth x kr
	if !left {
		ldw = oth
	}
	ckj := tileRef{c, ci, cj}
	vkk := tileRef{a, k, k}
	// W = V_kᵀ C_kj (left) or C_jk V_k (right), V_k unit lower trapezoidal.
	if err := submitAt(rt, home, []dataAcc{{w, home, 'w'}, tileAcc(a, k, k, 'r'), tileAcc(c, ci, cj, 'r')}, prio, "qr-w", func(tk *dagmpi.Task) error {
		wv := w.Buf(tk)
		cv, ldc := ckj.buf(tk)
		v, ldv := vkk.buf(tk)
		if left {
			kernels.Lacpy(blas.All, kr, oth, cv, ldc, wv, ldw)
			kernels.Trmm(blas.Left, blas.Lower, blas.Trans, blas.Unit, kr, oth, 1, v, ldv, wv, ldw)
			if rk > kr {
				kernels.Gemm(blas.Trans, blas.NoTrans, kr, oth, rk-kr, 1, v[kr:], ldv, cv[kr:], ldc, 1, wv, ldw)
			}
			return nil
		}
		kernels.Lacpy(blas.All, oth, kr, cv, ldc, wv, ldw)
		kernels.Trmm(blas.Right, blas.Lower, blas.NoTrans, blas.Unit, oth, kr, 1, v, ldv, wv, ldw)
		if rk > kr {
			kernels.Gemm(blas.NoTrans, blas.NoTrans, oth, kr, rk-kr, 1, cv[kr*ldc:], ldc, v[kr:], ldv, 1, wv, ldw)
		}
		return nil
	}); err != nil {
		return err
	}
	wat := home
	// The rest of the chain, one owner's tiles after another.
	for _, i := range rowsByOwner(c, a.mt, k+1, ct) {
		ci, cj := ct(i)
		runner := c.Owner(ci, cj)
		cij, vik := tileRef{c, ci, cj}, tileRef{a, i, k}
		ri, _ := a.TileDims(i, k)
		if err := submitAt(rt, runner, []dataAcc{{w, wat, 'm'}, tileAcc(a, i, k, 'r'), tileAcc(c, ci, cj, 'r')}, prio, "qr-w", func(tk *dagmpi.Task) error {
			wv := w.Buf(tk)
			cv, ldc := cij.buf(tk)
			v, ldv := vik.buf(tk)
			if left {
				kernels.Gemm(blas.Trans, blas.NoTrans, kr, oth, ri, 1, v, ldv, cv, ldc, 1, wv, ldw)
			} else {
				kernels.Gemm(blas.NoTrans, blas.NoTrans, oth, kr, ri, 1, cv, ldc, v, ldv, 1, wv, ldw)
			}
			return nil
		}); err != nil {
			return err
		}
		wat = runner
	}
	// W = op(T) W (left: Qᵀ C = C - V Tᵀ Vᵀ C) or W op(T) (right: C Q =
	// C - C V T Vᵀ).
	tt := trans
	tkk := tileRef{f.T, 0, k}
	if err := submitAt(rt, home, []dataAcc{{w, wat, 'm'}, tileAcc(f.T, 0, k, 'r')}, prio, "qr-t", func(tk *dagmpi.Task) error {
		wv := w.Buf(tk)
		tv := f.T.Tile(tkk.i, tkk.j).Buf(tk)
		if left {
			kernels.Trmm(blas.Left, blas.Upper, tt, blas.NonUnit, kr, oth, 1, tv, kr, wv, ldw)
		} else {
			kernels.Trmm(blas.Right, blas.Upper, tt, blas.NonUnit, oth, kr, 1, tv, kr, wv, ldw)
		}
		return nil
	}); err != nil {
		return err
	}
	wat = home
	// C -= V W (left) or W Vᵀ (right).
	if err := submitAt(rt, home, []dataAcc{tileAcc(c, ckj.i, ckj.j, 'm'), tileAcc(a, k, k, 'r'), {w, wat, 'r'}}, prio, "qr-update", func(tk *dagmpi.Task) error {
		wv := w.Buf(tk)
		cv, ldc := ckj.buf(tk)
		v, ldv := vkk.buf(tk)
		tmp := append([]float64(nil), wv[:kr*oth]...)
		if left {
			kernels.Trmm(blas.Left, blas.Lower, blas.NoTrans, blas.Unit, kr, oth, 1, v, ldv, tmp, ldw)
			for y := 0; y < oth; y++ {
				for x := 0; x < kr; x++ {
					cv[x+y*ldc] -= tmp[x+y*ldw]
				}
			}
			if rk > kr {
				kernels.Gemm(blas.NoTrans, blas.NoTrans, rk-kr, oth, kr, -1, v[kr:], ldv, wv, ldw, 1, cv[kr:], ldc)
			}
			return nil
		}
		kernels.Trmm(blas.Right, blas.Lower, blas.Trans, blas.Unit, oth, kr, 1, v, ldv, tmp, ldw)
		for y := 0; y < kr; y++ {
			for x := 0; x < oth; x++ {
				cv[x+y*ldc] -= tmp[x+y*ldw]
			}
		}
		if rk > kr {
			kernels.Gemm(blas.NoTrans, blas.Trans, oth, rk-kr, kr, -1, wv, ldw, v[kr:], ldv, 1, cv[kr*ldc:], ldc)
		}
		return nil
	}); err != nil {
		return err
	}
	for i := k + 1; i < a.mt; i++ {
		ci, cj := ct(i)
		cij, vik := tileRef{c, ci, cj}, tileRef{a, i, k}
		ri, _ := a.TileDims(i, k)
		if err := submitAt(rt, c.Owner(ci, cj), []dataAcc{tileAcc(c, ci, cj, 'm'), tileAcc(a, i, k, 'r'), {w, wat, 'r'}}, prio, "qr-update", func(tk *dagmpi.Task) error {
			wv := w.Buf(tk)
			cv, ldc := cij.buf(tk)
			v, ldv := vik.buf(tk)
			if left {
				kernels.Gemm(blas.NoTrans, blas.NoTrans, ri, oth, kr, -1, v, ldv, wv, ldw, 1, cv, ldc)
			} else {
				kernels.Gemm(blas.NoTrans, blas.Trans, oth, ri, kr, -1, wv, ldw, v, ldv, 1, cv, ldc)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// rowsByOwner returns the A-row tiles from..mt-1 ordered by the owner of
// C's tile ct(i), owners in the order of their first tile, rows in order
// within an owner.
func rowsByOwner(c *Matrix, mt, from int, ct func(i int) (int, int)) []int {
	var owners []int
	by := map[int][]int{}
	for i := from; i < mt; i++ {
		o := c.Owner(ct(i))
		if _, ok := by[o]; !ok {
			owners = append(owners, o)
		}
		by[o] = append(by[o], i)
	}
	out := make([]int, 0, mt-from)
	for _, o := range owners {
		out = append(out, by[o]...)
	}
	return out
}

// ormqrPanel is Ormqr for a PanelQR factorization: the panels' block
// reflectors in order (Qᵀ from the left, Q from the right) or in reverse.
func ormqrPanel(side blas.Side, trans blas.Transpose, f *QRFactors, c *Matrix) error {
	left := side == blas.Left
	nc := c.nt
	if !left {
		nc = c.mt
	}
	forward := left == (trans == blas.Trans)
	ws := wStore{}
	for s := 0; s < f.panels; s++ {
		k := s
		if !forward {
			k = f.panels - 1 - s
		}
		for j := 0; j < nc; j++ {
			if err := applyPanel(f, k, side, trans, c, j, f.panels-s, ws); err != nil {
				return err
			}
		}
	}
	return nil
}
