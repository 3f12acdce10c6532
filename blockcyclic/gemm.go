package blockcyclic

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Gemm computes C = alpha op(A) op(B) + beta C, as BLAS DGEMM and
// ScaLAPACK PDGEMM, where op(X) is X or Xᵀ as transA and transB say
// (blas.NoTrans, or blas.Trans / blas.ConjTrans, which are the same for
// real matrices). op(A) is m x k, op(B) is k x n and C is m x n.
//
// It is SUMMA as a task graph: for each k, a task on the owner of C(i, j)
// adds alpha op(A)(i, k) op(B)(k, j) to it. The runtime moves each tile of
// A's k-th block column and B's k-th block row once to each rank that
// updates a C tile with it; tasks of smaller k have higher priority, so the
// transfers of step k+1 overlap the updates of step k (lookahead).
//
// A, B and C may have any distributions (each its own), but their tiles
// must line up: op(A)'s tiles must have C's row block size and op(B)'s
// tiles C's column block size, and the inner block sizes of op(A) and op(B)
// must agree (for transA = NoTrans, A's tiles are mb x kb; for Trans, kb x
// mb). C must be a matrix of its own, not A or B. As in BLAS, with beta = 0
// C is not read, and with alpha = 0 or k = 0 A and B are not read.
//
// It is collective and does not wait: C's tiles hold the result once the
// submitted tasks have run (Runtime.Wait, Gather, Local).
func Gemm(transA, transB blas.Transpose, alpha float64, a, b *Matrix, beta float64, c *Matrix) error {
	g, err := newGemm("Gemm", transA, transB, alpha, a, b, beta, c)
	if err != nil {
		return err
	}
	return g.summa()
}

// Gemm25D computes C = alpha op(A) op(B) + beta C like Gemm, with the 2.5D
// algorithm: C must be distributed by a Cyclic3D over a P x Q x R grid.
// Layer l of the grid computes the l-th of R slices of the k sum into a
// partial C of its own with SUMMA over its P x Q ranks (layer 0 into C
// itself, with beta), and the partials are then added onto C's owners on
// layer 0 by a binary tree of add tasks over the layers. A and B may have
// any distributions with the tile sizes Gemm requires; their tiles move
// once to each rank of each layer that needs them. When the inner
// dimension has fewer than R tiles, only that many layers take part.
//
// It is collective and does not wait.
func Gemm25D(transA, transB blas.Transpose, alpha float64, a, b *Matrix, beta float64, c *Matrix) error {
	g, err := newGemm("Gemm25D", transA, transB, alpha, a, b, beta, c)
	if err != nil {
		return err
	}
	d3, ok := c.dist.(Cyclic3D)
	if !ok {
		return fmt.Errorf("blockcyclic: Gemm25D: C must be distributed by a Cyclic3D (P x Q x R grid), not %T", c.dist)
	}
	return g.twoPointFive(d3)
}

// gemm holds the checked arguments of one Gemm call.
type gemm struct {
	transA, transB bool
	alpha, beta    float64
	a, b, c        *Matrix
	kt             int // tiles along the inner dimension
	k              int // inner dimension
}

func isTrans(t blas.Transpose) (bool, error) {
	switch t {
	case blas.NoTrans:
		return false, nil
	case blas.Trans, blas.ConjTrans:
		return true, nil
	}
	return false, fmt.Errorf("unknown transpose %q", rune(t))
}

func newGemm(call string, transA, transB blas.Transpose, alpha float64, a, b *Matrix, beta float64, c *Matrix) (*gemm, error) {
	if a == nil || b == nil || c == nil {
		return nil, fmt.Errorf("blockcyclic: %s: nil matrix (A %v, B %v, C %v)", call, a != nil, b != nil, c != nil)
	}
	ta, err := isTrans(transA)
	if err != nil {
		return nil, fmt.Errorf("blockcyclic: %s: transA: %w", call, err)
	}
	tb, err := isTrans(transB)
	if err != nil {
		return nil, fmt.Errorf("blockcyclic: %s: transB: %w", call, err)
	}
	if a.rt != c.rt || b.rt != c.rt {
		return nil, fmt.Errorf("blockcyclic: %s: A, B and C must belong to the same Runtime", call)
	}
	if c == a || c == b {
		return nil, fmt.Errorf("blockcyclic: %s: C must not be A or B (it is overwritten while they are read)", call)
	}
	// op(A) is am x ak in tiles amb x akb; op(B) is bk x bn in bkb x bnb.
	am, ak, amb, akb := a.m, a.n, a.mb, a.nb
	if ta {
		am, ak, amb, akb = a.n, a.m, a.nb, a.mb
	}
	bk, bn, bkb, bnb := b.m, b.n, b.mb, b.nb
	if tb {
		bk, bn, bkb, bnb = b.n, b.m, b.nb, b.mb
	}
	shapes := fmt.Sprintf("op(A) is %d x %d (transA %c), op(B) is %d x %d (transB %c), C is %d x %d",
		am, ak, rune(transA), bk, bn, rune(transB), c.m, c.n)
	switch {
	case am != c.m:
		return nil, fmt.Errorf("blockcyclic: %s: %s: op(A) has %d rows, C has %d (M)", call, shapes, am, c.m)
	case bn != c.n:
		return nil, fmt.Errorf("blockcyclic: %s: %s: op(B) has %d columns, C has %d (N)", call, shapes, bn, c.n)
	case ak != bk:
		return nil, fmt.Errorf("blockcyclic: %s: %s: op(A) has %d columns, op(B) has %d rows (K)", call, shapes, ak, bk)
	}
	tiles := fmt.Sprintf("op(A) tiles are %d x %d, op(B) tiles %d x %d, C tiles %d x %d", amb, akb, bkb, bnb, c.mb, c.nb)
	switch {
	case c.m > 0 && ak > 0 && amb != c.mb:
		return nil, fmt.Errorf("blockcyclic: %s: %s: op(A)'s row block size must be C's MB %d", call, tiles, c.mb)
	case c.n > 0 && ak > 0 && bnb != c.nb:
		return nil, fmt.Errorf("blockcyclic: %s: %s: op(B)'s column block size must be C's NB %d", call, tiles, c.nb)
	case ak > 0 && akb != bkb:
		return nil, fmt.Errorf("blockcyclic: %s: %s: the inner block sizes of op(A) (%d) and op(B) (%d) must agree", call, tiles, akb, bkb)
	}
	return &gemm{transA: ta, transB: tb, alpha: alpha, beta: beta, a: a, b: b, c: c, k: ak, kt: ceilDiv(ak, max(1, akb))}, nil
}

// opA returns tile (i, k) of op(A), its leading dimension and its owner.
func (g *gemm) opA(i, k int) (*dagmpi.Data[float64], int, int) {
	if g.transA {
		r, _ := g.a.TileDims(k, i)
		return g.a.Tile(k, i), r, g.a.dist.Owner(k, i)
	}
	r, _ := g.a.TileDims(i, k)
	return g.a.Tile(i, k), r, g.a.dist.Owner(i, k)
}

// opB returns tile (k, j) of op(B), its leading dimension and its owner.
func (g *gemm) opB(k, j int) (*dagmpi.Data[float64], int, int) {
	if g.transB {
		r, _ := g.b.TileDims(j, k)
		return g.b.Tile(j, k), r, g.b.dist.Owner(j, k)
	}
	r, _ := g.b.TileDims(k, j)
	return g.b.Tile(k, j), r, g.b.dist.Owner(k, j)
}

func blasTrans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// scale submits C(i, j) = beta C(i, j) for every tile (k = 0 or alpha = 0).
func (g *gemm) scale() error {
	c := g.c
	beta := g.beta
	for j := 0; j < c.nt; j++ {
		for i := 0; i < c.mt; i++ {
			owner := c.dist.Owner(i, j)
			d := c.Tile(i, j)
			if !c.involved(owner) {
				if err := d.ProducedOn(owner); err != nil {
					return err
				}
				continue
			}
			mode := d.ReadWrite()
			if beta == 0 {
				mode = d.Write()
			}
			err := c.rt.Submit(func(t *dagmpi.Task) error {
				buf := d.Buf(t)
				if beta == 0 {
					clear(buf)
					return nil
				}
				for x := range buf {
					buf[x] *= beta
				}
				return nil
			}, mode, dagmpi.OnRank(owner), dagmpi.Name("gemm-scale"))
			if err != nil {
				return fmt.Errorf("blockcyclic: Gemm: tile (%d, %d): %w", i, j, err)
			}
		}
	}
	return nil
}

// update submits dst(i, j) = alpha op(A)(i, k) op(B)(k, j) + beta dst(i, j)
// on rank owner; first says the task is the first write of dst (beta
// applies; with beta = 0 the old contents are not read).
func (g *gemm) update(dst *dagmpi.Data[float64], owner, i, j, k int, beta float64, prio int) error {
	at, lda, aOwner := g.opA(i, k)
	bt, ldb, bOwner := g.opB(k, j)
	if !g.c.involved(owner, aOwner, bOwner) {
		return dst.ProducedOn(owner)
	}
	m, n := g.c.TileDims(i, j)
	kk := min(g.a.nb, g.k-k*g.a.nb)
	if g.transA {
		kk = min(g.a.mb, g.k-k*g.a.mb)
	}
	ta, tb, alpha := blasTrans(g.transA), blasTrans(g.transB), g.alpha
	mode := dst.ReadWrite()
	if beta == 0 {
		mode = dst.Write()
	}
	return g.c.rt.Submit(func(t *dagmpi.Task) error {
		kernels.Gemm(ta, tb, m, n, kk, alpha, at.Buf(t), lda, bt.Buf(t), ldb, beta, dst.Buf(t), m)
		return nil
	}, mode, at.Read(), bt.Read(), dagmpi.OnRank(owner), dagmpi.Priority(prio), dagmpi.Name("gemm"))
}

func (g *gemm) summa() error {
	c := g.c
	if c.m == 0 || c.n == 0 {
		return nil
	}
	if g.kt == 0 || g.alpha == 0 {
		return g.scale()
	}
	for k := 0; k < g.kt; k++ {
		beta := 1.0
		if k == 0 {
			beta = g.beta
		}
		if err := g.layerStep(k, beta, g.kt-k, c.Tile, c.dist.Owner); err != nil {
			return fmt.Errorf("blockcyclic: Gemm: %w", err)
		}
	}
	return nil
}

func (g *gemm) twoPointFive(d3 Cyclic3D) error {
	c := g.c
	if c.m == 0 || c.n == 0 {
		return nil
	}
	if g.kt == 0 || g.alpha == 0 {
		return g.scale()
	}
	_, _, r := d3.Grid()
	layers := min(r, g.kt)
	perLayer := d3.Layer().Size()
	// Partial C of each layer l > 0, on that layer's copy of C's owner.
	partial := make([][]*dagmpi.Data[float64], layers)
	for l := 1; l < layers; l++ {
		partial[l] = make([]*dagmpi.Data[float64], c.mt*c.nt)
		for j := 0; j < c.nt; j++ {
			for i := 0; i < c.mt; i++ {
				rows, cols := c.TileDims(i, j)
				d, err := dagmpi.NewData[float64](c.rt, rows*cols, l*perLayer+c.dist.Owner(i, j), nil)
				if err != nil {
					return fmt.Errorf("blockcyclic: Gemm25D: partial tile (%d, %d) of layer %d: %w", i, j, l, err)
				}
				partial[l][i+j*c.mt] = d
			}
		}
	}
	tile := func(l int) func(i, j int) *dagmpi.Data[float64] {
		if l == 0 {
			return c.Tile
		}
		return func(i, j int) *dagmpi.Data[float64] { return partial[l][i+j*c.mt] }
	}
	owner := func(l int) func(i, j int) int {
		return func(i, j int) int { return l*perLayer + c.dist.Owner(i, j) }
	}
	// Submit the layers' steps interleaved (step s of every layer, then
	// step s+1), so that the task order matches the priorities on every
	// layer at once.
	k0 := func(l int) int { return l * g.kt / layers }
	steps := 0
	for l := 0; l < layers; l++ {
		steps = max(steps, k0(l+1)-k0(l))
	}
	for s := 0; s < steps; s++ {
		for l := 0; l < layers; l++ {
			k := k0(l) + s
			if k >= k0(l+1) {
				continue
			}
			beta := 1.0
			if s == 0 {
				beta = 0
				if l == 0 {
					beta = g.beta
				}
			}
			if err := g.layerStep(k, beta, steps-s, tile(l), owner(l)); err != nil {
				return fmt.Errorf("blockcyclic: Gemm25D: layer %d: %w", l, err)
			}
		}
	}
	// Reduce: at distance s, layer l adds layer l+s's partial.
	for s := 1; s < layers; s *= 2 {
		for l := 0; l+s < layers; l += 2 * s {
			dst, src := tile(l), tile(l+s)
			own, srcOwn := owner(l), owner(l+s)
			for j := 0; j < c.nt; j++ {
				for i := 0; i < c.mt; i++ {
					if err := g.add(dst(i, j), src(i, j), own(i, j), srcOwn(i, j)); err != nil {
						return fmt.Errorf("blockcyclic: Gemm25D: adding layer %d into layer %d, tile (%d, %d): %w", l+s, l, i, j, err)
					}
				}
			}
		}
	}
	return nil
}

// layerStep submits the updates of inner tile k into dst.
func (g *gemm) layerStep(k int, beta float64, prio int, dst func(i, j int) *dagmpi.Data[float64], owner func(i, j int) int) error {
	c := g.c
	for j := 0; j < c.nt; j++ {
		for i := 0; i < c.mt; i++ {
			if err := g.update(dst(i, j), owner(i, j), i, j, k, beta, prio); err != nil {
				return fmt.Errorf("C tile (%d, %d), k = %d: %w", i, j, k, err)
			}
		}
	}
	return nil
}

// add submits dst += src on rank owner; src is on rank from.
func (g *gemm) add(dst, src *dagmpi.Data[float64], owner, from int) error {
	if !g.c.involved(owner, from) {
		return dst.ProducedOn(owner)
	}
	return g.c.rt.Submit(func(t *dagmpi.Task) error {
		d, s := dst.Buf(t), src.Buf(t)
		for x, v := range s {
			d[x] += v
		}
		return nil
	}, dst.ReadWrite(), src.Read(), dagmpi.OnRank(owner), dagmpi.Name("gemm-reduce"))
}
