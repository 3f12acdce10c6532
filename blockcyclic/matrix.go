package blockcyclic

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/spmd-go/spmd/dagmpi"
)

// Matrix is a distributed m x n matrix of float64, cut into mb x nb tiles
// (the last tile row and column may be partial) that live on the ranks of a
// dagmpi Runtime as its Distribution says. Each tile is one dagmpi.Data,
// stored column-major with a leading dimension equal to the tile's row count,
// so a task body gets a whole tile as one contiguous slice that BLAS takes
// as is.
//
// A Matrix is a set of handles: every rank makes the same calls on it in the
// same order, like every other submission to the Runtime. Algorithms read
// and write its tiles with tasks; the methods below that move data
// (Scatter, Gather, Redistribute, Local, SetLocal) are such task graphs.
//
// With a Runtime created WithPruned, a Matrix's methods leave out the tasks
// this rank takes no part in and declare where the tiles they write were
// produced (dagmpi.Data.ProducedOn).
type Matrix struct {
	rt     *dagmpi.Runtime
	m, n   int
	mb, nb int
	mt, nt int
	dist   Distribution
	tiles  []*dagmpi.Data[float64]  // tile (i, j) at i + j*mt, made eagerly
	set    *dagmpi.DataSet[float64] // or made on first use (pruned Runtimes)
}

// NewMatrix creates an m x n matrix of zeros cut into mb x nb tiles, each on
// the rank dist gives it. It is called on every rank with the same
// arguments. It returns an error if a size is negative, a block size is less
// than one, or dist deals tiles to a different number of ranks than the
// Runtime has. On a pruned Runtime (dagmpi.WithPruned) it costs O(1): each
// tile's handle is made when this rank first uses it (see MakeLocal).
func NewMatrix(rt *dagmpi.Runtime, m, n, mb, nb int, dist Distribution) (*Matrix, error) {
	return newMatrix(rt, m, n, mb, nb, dist, nil)
}

// NewMatrixFunc creates an m x n matrix whose element (i, j) (0-based,
// global) is f(i, j). Each rank calls f only for the elements of its own
// tiles, so a large matrix is generated without communication. f must give
// the same value on every rank and be safe to call from one goroutine. On a
// pruned Runtime f runs when a tile is first used (MakeLocal forces it), so
// it must not depend on state that changes after NewMatrixFunc returns.
func NewMatrixFunc(rt *dagmpi.Runtime, m, n, mb, nb int, dist Distribution, f func(i, j int) float64) (*Matrix, error) {
	if f == nil {
		return nil, fmt.Errorf("blockcyclic: NewMatrixFunc: nil element function")
	}
	return newMatrix(rt, m, n, mb, nb, dist, f)
}

func checkShape(rt *dagmpi.Runtime, m, n, mb, nb int, dist Distribution) error {
	switch {
	case rt == nil:
		return fmt.Errorf("blockcyclic: nil Runtime")
	case dist == nil:
		return fmt.Errorf("blockcyclic: nil Distribution")
	case m < 0 || n < 0:
		return fmt.Errorf("blockcyclic: matrix size %d x %d: M_ and N_ must not be negative", m, n)
	case mb < 1:
		return fmt.Errorf("blockcyclic: row block size MB_ = %d must be at least 1", mb)
	case nb < 1:
		return fmt.Errorf("blockcyclic: column block size NB_ = %d must be at least 1", nb)
	}
	if s := dist.Size(); s > rt.Size() {
		return fmt.Errorf("blockcyclic: the distribution deals tiles to %d ranks, but the runtime has %d (grid larger than the communicator)", s, rt.Size())
	}
	return nil
}

func newMatrix(rt *dagmpi.Runtime, m, n, mb, nb int, dist Distribution, f func(i, j int) float64) (*Matrix, error) {
	if err := checkShape(rt, m, n, mb, nb, dist); err != nil {
		return nil, err
	}
	a := &Matrix{rt: rt, m: m, n: n, mb: mb, nb: nb, mt: ceilDiv(m, mb), nt: ceilDiv(n, nb), dist: dist}
	fill := func(i, j int, tile []float64) {
		if f == nil {
			return
		}
		r, c := a.TileDims(i, j)
		for jj := 0; jj < c; jj++ {
			for ii := 0; ii < r; ii++ {
				tile[ii+jj*r] = f(i*mb+ii, j*nb+jj)
			}
		}
	}
	if rt.Pruned() {
		// Each rank touches only the tiles of its tasks: make a tile's
		// handle when it is first used, so that building the matrix costs
		// O(1) and a rank pays only for its own tiles and their
		// neighbours.
		set, err := dagmpi.NewDataSet(rt, a.mt*a.nt, func(k int) (int, int) {
			i, j := k%a.mt, k/a.mt
			r, c := a.TileDims(i, j)
			return r * c, dist.Owner(i, j)
		}, func(k int, tile []float64) { fill(k%a.mt, k/a.mt, tile) })
		if err != nil {
			return nil, fmt.Errorf("blockcyclic: %w", err)
		}
		a.set = set
		return a, nil
	}
	a.tiles = make([]*dagmpi.Data[float64], a.mt*a.nt)
	me := rt.Rank()
	var buf []float64
	for j := 0; j < a.nt; j++ {
		for i := 0; i < a.mt; i++ {
			r, c := a.TileDims(i, j)
			owner := dist.Owner(i, j)
			var init []float64
			if f != nil && owner == me {
				if cap(buf) < r*c {
					buf = make([]float64, r*c)
				}
				init = buf[:r*c]
				fill(i, j, init)
			}
			d, err := dagmpi.NewData(rt, r*c, owner, init)
			if err != nil {
				return nil, fmt.Errorf("blockcyclic: tile (%d, %d): %w", i, j, err)
			}
			a.tiles[i+j*a.mt] = d
		}
	}
	return a, nil
}

// MakeLocal makes the handles of the tiles this rank owns now (with their
// contents, for NewMatrixFunc), which a matrix on a pruned Runtime otherwise
// makes on first use; a program that times a routine calls it first, so
// that the generation of its tiles is not counted. It does nothing on a
// Runtime that is not pruned, whose tiles are all made by NewMatrix.
func (a *Matrix) MakeLocal() {
	if a.set == nil {
		return
	}
	me := a.rt.Rank()
	for j := 0; j < a.nt; j++ {
		for i := 0; i < a.mt; i++ {
			if a.dist.Owner(i, j) == me {
				a.set.At(i + j*a.mt)
			}
		}
	}
}

// TilesMade returns how many tile handles this rank holds: all of them on
// a Runtime that is not pruned, the ones it has used so far on a pruned one.
func (a *Matrix) TilesMade() int {
	if a.set == nil {
		return len(a.tiles)
	}
	return a.set.Made()
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Runtime returns the Runtime the tiles belong to.
func (a *Matrix) Runtime() *dagmpi.Runtime { return a.rt }

// Dims returns the global size m x n.
func (a *Matrix) Dims() (m, n int) { return a.m, a.n }

// BlockSize returns the tile size mb x nb (of all tiles but the partial
// last row and column).
func (a *Matrix) BlockSize() (mb, nb int) { return a.mb, a.nb }

// Tiles returns the number of tile rows and tile columns.
func (a *Matrix) Tiles() (mt, nt int) { return a.mt, a.nt }

// Dist returns the distribution of the tiles.
func (a *Matrix) Dist() Distribution { return a.dist }

// Owner returns the rank that holds tile (i, j) initially (the home of its
// Data); a task that writes the tile runs there unless it names a rank.
func (a *Matrix) Owner(i, j int) int { return a.dist.Owner(i, j) }

// Tile returns the handle of tile (i, j). It panics if (i, j) is outside
// the tile grid.
func (a *Matrix) Tile(i, j int) *dagmpi.Data[float64] {
	if i < 0 || i >= a.mt || j < 0 || j >= a.nt {
		panic(fmt.Sprintf("blockcyclic: tile (%d, %d) outside a %d x %d tile grid", i, j, a.mt, a.nt))
	}
	if a.set != nil {
		return a.set.At(i + j*a.mt)
	}
	return a.tiles[i+j*a.mt]
}

// producedOn declares that tasks this rank left out wrote tile (i, j) on
// rank (dagmpi.Data.ProducedOn), without making the tile's handle when this
// rank has not used it.
func (a *Matrix) producedOn(i, j, rank int) error {
	if a.set != nil {
		return a.set.ProducedOn(i+j*a.mt, rank)
	}
	return a.Tile(i, j).ProducedOn(rank)
}

// TileDims returns the size of tile (i, j): mb x nb except in the last tile
// row and column.
func (a *Matrix) TileDims(i, j int) (rows, cols int) {
	return min(a.mb, a.m-i*a.mb), min(a.nb, a.n-j*a.nb)
}

// involved reports whether this rank must submit a task that runs on rank
// owner and reads tiles located on the ranks in from: always without
// pruning; with pruning only the runner and the ranks that send to it.
func (a *Matrix) involved(owner int, from ...int) bool {
	if !a.rt.Pruned() {
		return true
	}
	me := a.rt.Rank()
	if owner == me {
		return true
	}
	for _, r := range from {
		if r == me {
			return true
		}
	}
	return false
}

// Scatter creates an m x n matrix cut into mb x nb tiles distributed by
// dist, with the contents of src, which rank root holds. It is collective:
// every rank passes the same sizes, root and distribution; src is used on
// root only (it must be m x n there) and may be nil elsewhere. Tiles move
// from root to their owners as tasks of the Runtime; src may be changed as
// soon as Scatter returns.
func Scatter(rt *dagmpi.Runtime, src mat.Matrix, root, m, n, mb, nb int, dist Distribution) (*Matrix, error) {
	if err := checkShape(rt, m, n, mb, nb, dist); err != nil {
		return nil, err
	}
	if root < 0 || root >= rt.Size() {
		return nil, fmt.Errorf("blockcyclic: Scatter: root %d outside the %d ranks", root, rt.Size())
	}
	me := rt.Rank()
	if me == root {
		if src == nil && m*n > 0 {
			return nil, fmt.Errorf("blockcyclic: Scatter: rank %d is root and has a nil source matrix", me)
		}
		// An empty matrix may come as any empty source (mat.Dense has no
		// 0 x n shape).
		if src == nil {
			// empty matrix, nothing to read
		} else if r, c := src.Dims(); m*n > 0 && (r != m || c != n) || m*n == 0 && r*c != 0 {
			return nil, fmt.Errorf("blockcyclic: Scatter: rank %d (root): source is %d x %d, the matrix is %d x %d", me, r, c, m, n)
		}
	}
	a := &Matrix{rt: rt, m: m, n: n, mb: mb, nb: nb, mt: ceilDiv(m, mb), nt: ceilDiv(n, nb), dist: dist}
	a.tiles = make([]*dagmpi.Data[float64], a.mt*a.nt)
	var buf []float64
	for j := 0; j < a.nt; j++ {
		for i := 0; i < a.mt; i++ {
			r, c := a.TileDims(i, j)
			var init []float64
			if me == root {
				if cap(buf) < r*c {
					buf = make([]float64, r*c)
				}
				init = buf[:r*c]
				for jj := 0; jj < c; jj++ {
					for ii := 0; ii < r; ii++ {
						init[ii+jj*r] = src.At(i*mb+ii, j*nb+jj)
					}
				}
			}
			d, err := dagmpi.NewData(rt, r*c, root, init)
			if err != nil {
				return nil, fmt.Errorf("blockcyclic: Scatter: tile (%d, %d): %w", i, j, err)
			}
			a.tiles[i+j*a.mt] = d
			owner := dist.Owner(i, j)
			if owner == root {
				continue
			}
			// Move the tile: an empty read-write task on the owner makes
			// version 1 there from root's version 0.
			if a.involved(owner, root) {
				err = rt.Submit(noop, d.ReadWrite(), dagmpi.OnRank(owner), dagmpi.Name("scatter"))
			} else {
				err = d.ProducedOn(owner)
			}
			if err != nil {
				return nil, fmt.Errorf("blockcyclic: Scatter: tile (%d, %d): %w", i, j, err)
			}
		}
	}
	return a, nil
}

func noop(*dagmpi.Task) error { return nil }

// Gather returns the whole matrix on rank root (nil on the other ranks),
// after the work submitted before it. It is collective: it submits a copy
// task per tile on root and waits for all submitted work (Runtime.Wait).
func (a *Matrix) Gather(root int) (*mat.Dense, error) {
	if root < 0 || root >= a.rt.Size() {
		return nil, fmt.Errorf("blockcyclic: Gather: root %d outside the %d ranks", root, a.rt.Size())
	}
	var dst *mat.Dense
	me := a.rt.Rank()
	if me == root && a.m > 0 && a.n > 0 {
		dst = mat.NewDense(a.m, a.n, nil)
	}
	if a.m > 0 && a.n > 0 {
		for j := 0; j < a.nt; j++ {
			for i := 0; i < a.mt; i++ {
				d := a.Tile(i, j)
				// The latest version may have moved; without pruning every
				// rank knows where. With pruning the owner of the tile's
				// latest version must submit: rely on the home owner
				// (algorithms write tiles on their owners).
				if !a.involved(root, a.dist.Owner(i, j)) {
					continue
				}
				i, j := i, j
				err := a.rt.Submit(func(t *dagmpi.Task) error {
					r, c := a.TileDims(i, j)
					tile := d.Buf(t)
					raw := dst.RawMatrix()
					for jj := 0; jj < c; jj++ {
						for ii := 0; ii < r; ii++ {
							raw.Data[(i*a.mb+ii)*raw.Stride+j*a.nb+jj] = tile[ii+jj*r]
						}
					}
					return nil
				}, d.Read(), dagmpi.OnRank(root), dagmpi.Name("gather"))
				if err != nil {
					return nil, fmt.Errorf("blockcyclic: Gather: tile (%d, %d): %w", i, j, err)
				}
			}
		}
	}
	if err := a.rt.Wait(); err != nil {
		return nil, err
	}
	if me != root {
		return nil, nil
	}
	if dst == nil {
		return &mat.Dense{}, nil
	}
	return dst, nil
}

// Redistribute returns a new matrix with a's contents cut into mb x nb tiles
// distributed by dist. Any two layouts work: each new tile is assembled, on
// its owner, from the old tiles it overlaps. a is unchanged. It is
// collective and does not wait.
func Redistribute(a *Matrix, mb, nb int, dist Distribution) (*Matrix, error) {
	b, err := NewMatrix(a.rt, a.m, a.n, mb, nb, dist)
	if err != nil {
		return nil, err
	}
	var owners []int
	for j := 0; j < b.nt; j++ {
		for i := 0; i < b.mt; i++ {
			r, c := b.TileDims(i, j)
			r0, c0 := i*b.mb, j*b.nb
			si0, si1 := r0/a.mb, (r0+r-1)/a.mb
			sj0, sj1 := c0/a.nb, (c0+c-1)/a.nb
			args := []dagmpi.Arg{b.Tile(i, j).Write(), dagmpi.OnRank(b.dist.Owner(i, j)), dagmpi.Name("redistribute")}
			owners = owners[:0]
			for sj := sj0; sj <= sj1; sj++ {
				for si := si0; si <= si1; si++ {
					args = append(args, a.Tile(si, sj).Read())
					owners = append(owners, a.dist.Owner(si, sj))
				}
			}
			dst := b.Tile(i, j)
			owner := b.dist.Owner(i, j)
			if !a.involved(owner, owners...) {
				if err := dst.ProducedOn(owner); err != nil {
					return nil, err
				}
				continue
			}
			err := a.rt.Submit(func(t *dagmpi.Task) error {
				out := dst.Buf(t)
				for sj := sj0; sj <= sj1; sj++ {
					for si := si0; si <= si1; si++ {
						in := a.Tile(si, sj).Buf(t)
						sr, _ := a.TileDims(si, sj)
						// Overlap of source tile (si, sj) with this tile, in
						// global coordinates.
						gr0, gr1 := max(r0, si*a.mb), min(r0+r, si*a.mb+sr)
						sc := min(a.nb, a.n-sj*a.nb)
						gc0, gc1 := max(c0, sj*a.nb), min(c0+c, sj*a.nb+sc)
						for gc := gc0; gc < gc1; gc++ {
							copy(out[(gr0-r0)+(gc-c0)*r:(gr1-r0)+(gc-c0)*r],
								in[(gr0-si*a.mb)+(gc-sj*a.nb)*sr:(gr1-si*a.mb)+(gc-sj*a.nb)*sr])
						}
					}
				}
				return nil
			}, args...)
			if err != nil {
				return nil, fmt.Errorf("blockcyclic: Redistribute: tile (%d, %d): %w", i, j, err)
			}
		}
	}
	return b, nil
}

// localShape returns the ScaLAPACK local array shape of rank me for a
// matrix distributed by a Cyclic2D, or an error for other layouts.
func (a *Matrix) localShape(me int) (c Cyclic2D, lr, lc int, err error) {
	c, ok := a.dist.(Cyclic2D)
	if !ok {
		return Cyclic2D{}, 0, 0, fmt.Errorf("blockcyclic: ScaLAPACK local arrays need a Cyclic2D distribution, not %T", a.dist)
	}
	if me >= c.Size() {
		return c, 0, 0, nil // not on the grid: an empty local part
	}
	prow, pcol := c.Coords(me)
	rsrc, csrc := c.Source()
	p, q := c.Grid()
	return c, Numroc(a.m, a.mb, prow, rsrc, p), Numroc(a.n, a.nb, pcol, csrc, q), nil
}

// LocalShape returns the size of this rank's ScaLAPACK local array: the
// rows and columns it holds of a matrix distributed by a Cyclic2D
// (Numroc of the rows and of the columns). The leading dimension of the
// array must be at least max(1, rows).
func (a *Matrix) LocalShape() (rows, cols int, err error) {
	_, r, c, err := a.localShape(a.rt.Rank())
	return r, c, err
}

// Local copies this rank's tiles into a ScaLAPACK local array: column-major,
// leading dimension lld, in the layout PDGEMM and PDPOTRF expect for the
// descriptor of this matrix (see Desc). It needs a Cyclic2D distribution.
// dst must hold lld*cols elements (LocalShape); nil allocates one with
// lld = max(1, rows). It is collective (it waits for all submitted work)
// and returns the array and its leading dimension.
func (a *Matrix) Local(dst []float64, lld int) ([]float64, int, error) {
	dst, lld, err := a.checkLocal("Local", dst, lld, true)
	if err != nil {
		return nil, 0, err
	}
	err = a.eachTileOnOwner(false, func(i, j, li, lj int) error {
		d := a.Tile(i, j)
		return a.rt.Submit(func(t *dagmpi.Task) error {
			r, c := a.TileDims(i, j)
			tile := d.Buf(t)
			for jj := 0; jj < c; jj++ {
				copy(dst[li*a.mb+(lj*a.nb+jj)*lld:li*a.mb+(lj*a.nb+jj)*lld+r], tile[jj*r:(jj+1)*r])
			}
			return nil
		}, d.Read(), dagmpi.OnRank(a.dist.Owner(i, j)), dagmpi.Name("to-local"))
	})
	if err != nil {
		return nil, 0, err
	}
	if err := a.rt.Wait(); err != nil {
		return nil, 0, err
	}
	return dst, lld, nil
}

// SetLocal overwrites this rank's tiles with the contents of a ScaLAPACK
// local array (column-major, leading dimension lld), the inverse of Local:
// a matrix handed to ScaLAPACK comes back this way. It needs a Cyclic2D
// distribution. It is collective: it waits for all submitted work, after
// which src may be reused.
func (a *Matrix) SetLocal(src []float64, lld int) error {
	if _, _, err := a.checkLocal("SetLocal", src, lld, false); err != nil {
		return err
	}
	err := a.eachTileOnOwner(true, func(i, j, li, lj int) error {
		d := a.Tile(i, j)
		return a.rt.Submit(func(t *dagmpi.Task) error {
			r, c := a.TileDims(i, j)
			tile := d.Buf(t)
			for jj := 0; jj < c; jj++ {
				copy(tile[jj*r:(jj+1)*r], src[li*a.mb+(lj*a.nb+jj)*lld:li*a.mb+(lj*a.nb+jj)*lld+r])
			}
			return nil
		}, d.Write(), dagmpi.OnRank(a.dist.Owner(i, j)), dagmpi.Name("from-local"))
	})
	if err != nil {
		return err
	}
	return a.rt.Wait()
}

func (a *Matrix) checkLocal(call string, buf []float64, lld int, alloc bool) ([]float64, int, error) {
	me := a.rt.Rank()
	_, lr, lc, err := a.localShape(me)
	if err != nil {
		return nil, 0, err
	}
	if buf == nil && alloc {
		lld = max(1, lr)
		return make([]float64, lld*lc), lld, nil
	}
	if lld < max(1, lr) {
		return nil, 0, fmt.Errorf("blockcyclic: %s: rank %d: LLD_ = %d is less than max(1, %d local rows)", call, me, lld, lr)
	}
	if len(buf) < lld*lc {
		return nil, 0, fmt.Errorf("blockcyclic: %s: rank %d: local array has %d elements, needs LLD_ %d x %d local columns = %d", call, me, len(buf), lld, lc, lld*lc)
	}
	return buf, lld, nil
}

// eachTileOnOwner calls f, which submits a task on the tile's owner, for
// every tile this rank must submit it for: all tiles, or with pruning the
// tiles this rank owns; a pruned rank declares the owner as the producer of
// the tiles such tasks write. The body of such a task runs on the owner and
// uses the owner's local array. The owner should still hold the tile's
// latest version for the copy to be local; otherwise the runtime moves it
// (correct without pruning, not free).
func (a *Matrix) eachTileOnOwner(writes bool, f func(i, j, li, lj int) error) error {
	for j := 0; j < a.nt; j++ {
		for i := 0; i < a.mt; i++ {
			owner := a.dist.Owner(i, j)
			var err error
			if a.involved(owner) {
				li, lj := a.dist.LocalBlock(i, j)
				err = f(i, j, li, lj)
			} else if writes {
				err = a.producedOn(i, j, owner)
			}
			if err != nil {
				return fmt.Errorf("blockcyclic: tile (%d, %d): %w", i, j, err)
			}
		}
	}
	return nil
}

// Desc returns this rank's ScaLAPACK descriptor of the matrix, for a local
// array with leading dimension lld, in BLACS context ctxt. It needs a
// Cyclic2D distribution; the grid coordinates are this rank's.
func (a *Matrix) Desc(ctxt, lld int) (Desc, error) {
	c, _, _, err := a.localShape(a.rt.Rank())
	if err != nil {
		return Desc{}, err
	}
	p, q := c.Grid()
	var prow, pcol int
	if a.rt.Rank() < c.Size() {
		prow, pcol = c.Coords(a.rt.Rank())
	} else {
		prow, pcol = -1, -1
	}
	rsrc, csrc := c.Source()
	return NewDesc(a.m, a.n, a.mb, a.nb, rsrc, csrc, ctxt, lld, GridInfo{NProw: p, NPcol: q, MyRow: prow, MyCol: pcol})
}
