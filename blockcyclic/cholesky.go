package blockcyclic

import (
	"errors"
	"fmt"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// tileRef names tile (i, j) of a matrix, for the task helper.
type tileRef struct {
	m    *Matrix
	i, j int
}

// prunedOut reports whether this rank leaves out a task that writes tile w
// and reads tiles rs: with a pruned Runtime, a rank that neither owns w
// (owner computes) nor holds a tile of rs. It then declares where w's new
// version lives. Callers check it before building the task's closure, so
// a left-out task costs no allocation.
func prunedOut(w tileRef, rs ...tileRef) (bool, error) {
	owner := w.m.Owner(w.i, w.j)
	from := make([]int, 0, 4) // stays on the stack
	for _, r := range rs {
		from = append(from, r.m.Owner(r.i, r.j))
	}
	if w.m.involved(owner, from...) {
		return false, nil
	}
	return true, w.m.producedOn(w.i, w.j, owner)
}

// submitTile submits body as a task that read-writes tile w and reads
// tiles rs, running on w's owner (owner computes). With a pruned Runtime a
// rank that neither owns w nor holds a tile of rs leaves the task out and
// declares where w's new version lives (see prunedOut).
func submitTile(w tileRef, rs []tileRef, prio int, name string, body func(*dagmpi.Task) error) error {
	if out, err := prunedOut(w, rs...); out || err != nil {
		return err
	}
	rt := w.m.rt
	args := make([]dagmpi.Arg, 0, len(rs)+3)
	args = append(args, w.m.Tile(w.i, w.j).ReadWrite())
	for _, r := range rs {
		args = append(args, r.m.Tile(r.i, r.j).Read())
	}
	args = append(args, dagmpi.Priority(prio), dagmpi.Name(name))
	return rt.Submit(body, args...)
}

// buf returns the tile's local buffer and leading dimension in a task body.
func (r tileRef) buf(t *dagmpi.Task) ([]float64, int) {
	rows, _ := r.m.TileDims(r.i, r.j)
	return r.m.Tile(r.i, r.j).Buf(t), max(rows, 1)
}

func checkUplo(call string, uplo blas.Uplo) error {
	if uplo != blas.Lower && uplo != blas.Upper {
		return fmt.Errorf("blockcyclic: %s: uplo %q: want blas.Lower or blas.Upper", call, rune(uplo))
	}
	return nil
}

func checkSquareTiles(call, name string, a *Matrix) error {
	if a == nil {
		return fmt.Errorf("blockcyclic: %s: nil matrix %s", call, name)
	}
	if a.m != a.n {
		return fmt.Errorf("blockcyclic: %s: %s is %d x %d, want a square matrix", call, name, a.m, a.n)
	}
	if a.mb != a.nb {
		return fmt.Errorf("blockcyclic: %s: %s has %d x %d tiles, want square tiles (MB_ = NB_)", call, name, a.mb, a.nb)
	}
	return nil
}

// Potrf computes the Cholesky factorization of the symmetric positive
// definite matrix a in place, as LAPACK DPOTRF: a = L Lᵀ (uplo blas.Lower,
// L in the lower triangle) or a = Uᵀ U (blas.Upper, U in the upper
// triangle); the other triangle is neither read nor written. a must be
// square with square tiles.
//
// It is collective and submits a tile task graph (right-looking: tile
// POTRF, TRSM, SYRK and GEMM tasks, owner computes, the panel's tasks first
// by priority), then waits only for the factorization's status: the tasks
// may still be running when it returns; later submissions, Wait or Gather
// order after them. If a is not positive definite, every rank returns the
// same error, wrapping a *kernels.NotPositiveDefiniteError whose Column is
// LAPACK's INFO (1-based global column of the first non-positive pivot);
// the tasks after the failing tile factorization skip their work, and a's
// contents are then unspecified.
func Potrf(uplo blas.Uplo, a *Matrix) error {
	if err := checkUplo("Potrf", uplo); err != nil {
		return err
	}
	if err := checkSquareTiles("Potrf", "A", a); err != nil {
		return err
	}
	var failed atomic.Int64 // this rank's first failing global column, 0: none
	if err := submitPotrf(uplo, a, &failed); err != nil {
		return err
	}
	col, err := agreeInfo(a, &failed)
	if err != nil {
		return err
	}
	if col != 0 {
		return fmt.Errorf("blockcyclic: Potrf: %w", &kernels.NotPositiveDefiniteError{Column: col, N: a.n})
	}
	return nil
}

// Cholesky task priorities: step k's tasks outrank step k+1's; within a
// step the panel factorization first, then its solves, then the update of
// the next panel, then the rest of the trailing matrix.
func cholPrio(nt, k, rank int) int { return 4*(nt-k) + rank }

func submitPotrf(uplo blas.Uplo, a *Matrix, failed *atomic.Int64) error {
	nt := a.nt
	lower := uplo == blas.Lower
	skip := func() bool { return failed.Load() != 0 }
	// inv[k] holds the inverse of diagonal tile k's triangle, on its owner.
	inv := make([]*dagmpi.Data[float64], nt)
	for k := range inv {
		r, _ := a.TileDims(k, k)
		d, err := dagmpi.NewData[float64](a.rt, r*r, a.Owner(k, k), nil)
		if err != nil {
			return err
		}
		inv[k] = d
	}
	for k := 0; k < nt; k++ {
		kk := tileRef{a, k, k}
		k0 := k * a.nb
		if err := submitTile(kk, nil, cholPrio(nt, k, 3), "potrf", func(t *dagmpi.Task) error {
			if skip() {
				return nil
			}
			buf, ld := kk.buf(t)
			rows, _ := a.TileDims(k, k)
			if err := kernels.Potrf(uplo, rows, buf, ld); err != nil {
				var npd *kernels.NotPositiveDefiniteError
				if !errors.As(err, &npd) {
					return err
				}
				col := int64(k0 + npd.Column)
				for {
					cur := failed.Load()
					if (cur != 0 && cur <= col) || failed.CompareAndSwap(cur, col) {
						break
					}
				}
			}
			return nil
		}); err != nil {
			return err
		}
		// The panel is solved through the inverse of the diagonal tile:
		// one TRTRI per step, then a TRMM per panel tile, because OpenBLAS's
		// DTRSM runs far below its DTRMM and DGEMM (see kernels.Trtri).
		if k+1 < nt {
			if err := submitInverse(a, uplo, k, inv[k], cholPrio(nt, k, 3), skip); err != nil {
				return err
			}
		}
		// Panel solves.
		for i := k + 1; i < nt; i++ {
			w := tileRef{a, i, k} // lower: L(i,k) = A(i,k) L(k,k)^-T
			side, trans := blas.Right, blas.Trans
			if !lower {
				w = tileRef{a, k, i} // upper: U(k,i) = U(k,k)^-T A(k,i)
				side = blas.Left
			}
			if out, err := prunedOut(w, kk); out || err != nil {
				if err != nil {
					return err
				}
				continue
			}
			ik := inv[k]
			body := func(t *dagmpi.Task) error {
				if skip() {
					return nil
				}
				b, ldb := w.buf(t)
				l := ik.Buf(t)
				ldl, _ := a.TileDims(k, k)
				m, n := a.TileDims(w.i, w.j)
				kernels.Trmm(side, uplo, trans, blas.NonUnit, m, n, 1, l, ldl, b, ldb)
				return nil
			}
			if err := a.rt.Submit(body, a.Tile(w.i, w.j).ReadWrite(), ik.Read(), dagmpi.Priority(cholPrio(nt, k, 2)), dagmpi.Name("trsm")); err != nil {
				return err
			}
		}
		// Trailing update, column (lower) or row (upper) j at a time.
		for j := k + 1; j < nt; j++ {
			p := 0
			if j == k+1 {
				p = 1
			}
			pj := tileRef{a, j, k}
			if !lower {
				pj = tileRef{a, k, j}
			}
			jj := tileRef{a, j, j}
			if out, err := prunedOut(jj, pj); err != nil {
				return err
			} else if !out {
				if err := submitSyrk(a, uplo, jj, pj, cholPrio(nt, k, p), skip); err != nil {
					return err
				}
			}
			if a.rt.Pruned() {
				if d, ok := a.dist.(SBC); ok {
					if err := sbcUpdates(a, d, j, k, func(i int) error {
						return submitUpdate(a, uplo, i, j, k, cholPrio(nt, k, p), skip)
					}); err != nil {
						return err
					}
					continue
				}
			}
			start, step := updateRange(a, uplo, j, k)
			for i := start; i < nt; i += step {
				if err := submitUpdate(a, uplo, i, j, k, cholPrio(nt, k, p), skip); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// submitInverse submits a task on diagonal tile k's owner that writes the
// inverse of its uplo triangle (after POTRF) into ik.
func submitInverse(a *Matrix, uplo blas.Uplo, k int, ik *dagmpi.Data[float64], prio int, skip func() bool) error {
	owner := a.Owner(k, k)
	if a.rt.Pruned() && owner != a.rt.Rank() {
		return ik.ProducedOn(owner)
	}
	kk := tileRef{a, k, k}
	body := func(t *dagmpi.Task) error {
		if skip() {
			return nil
		}
		src, ld := kk.buf(t)
		dst := ik.Buf(t)
		n, _ := a.TileDims(k, k)
		kernels.Lacpy(uplo, n, n, src, ld, dst, n)
		return kernels.Trtri(uplo, blas.NonUnit, n, dst, n)
	}
	return a.rt.Submit(body, ik.Write(), a.Tile(k, k).Read(), dagmpi.Priority(prio), dagmpi.Name("trtri"))
}

// submitSyrk submits A(j,j) -= P Pᵀ (lower, P = L(j,k)) or Pᵀ P (upper,
// P = U(k,j)).
func submitSyrk(a *Matrix, uplo blas.Uplo, jj, pj tileRef, prio int, skip func() bool) error {
	trans := blas.NoTrans
	if uplo == blas.Upper {
		trans = blas.Trans
	}
	return submitTile(jj, []tileRef{pj}, prio, "syrk", func(t *dagmpi.Task) error {
		if skip() {
			return nil
		}
		c, ldc := jj.buf(t)
		x, ldx := pj.buf(t)
		n, _ := a.TileDims(jj.i, jj.j)
		kernels.Syrk(uplo, trans, n, a.nb, -1, x, ldx, 1, c, ldc)
		return nil
	})
}

// updateRange returns the i of step k's GEMM updates in block column (lower)
// or row (upper) j that this rank must consider: every i > j, or, with a
// pruned Runtime over a Cyclic2D, only those whose task this rank runs or
// sends a tile to (an arithmetic progression, or none; sbcUpdates does the
// same for SBC), so that a rank's
// graph build costs its own tasks plus O(nt²) rather than the whole O(nt³)
// loop. Left-out updates need no ProducedOn: each tile is only ever written
// by its owner (owner computes), so its location never changes, and a rank
// that does not own a tile reads it only in its final version.
func updateRange(a *Matrix, uplo blas.Uplo, j, k int) (start, step int) {
	nt := a.nt
	d, ok := a.dist.(Cyclic2D)
	if !a.rt.Pruned() || !ok {
		return j + 1, 1
	}
	me := a.rt.Rank()
	if me >= d.Size() {
		return nt, 1 // not on the grid: no tiles, no tasks
	}
	p, q := d.Grid()
	rsrc, csrc := d.Source()
	prow, pcol := d.Coords(me)
	row := func(i int) int { return (rsrc + i) % p }
	col := func(i int) int { return (csrc + i) % q }
	first := func(from, want, n, src int) int { // first i >= from with (src+i) mod n == want
		return from + ((want-(src+from)%n)%n+n)%n
	}
	if uplo == blas.Lower {
		// w = (i, j), x = (i, k) vary with i; y = (j, k) is fixed.
		if d.Owner(j, k) == me {
			return j + 1, 1
		}
		if col(j) == pcol || col(k) == pcol {
			return first(j+1, prow, p, rsrc), p
		}
		return nt, 1
	}
	// Upper: w = (j, i), y = (k, i) vary with i; x = (k, j) is fixed.
	if d.Owner(k, j) == me {
		return j + 1, 1
	}
	if row(j) == prow || row(k) == prow {
		return first(j+1, pcol, q, csrc), q
	}
	return nt, 1
}

// sbcUpdates calls f, in increasing order, for the i of step k's GEMM
// updates in block column (lower) or row (upper) j that this rank must
// consider with a pruned Runtime over an SBC distribution: every i > j if
// the rank owns the fixed panel tile L(j,k) (U(k,j)); otherwise the task
// must write tile (i, j) or read tile (i, k) (or their transposes) on this
// rank, which needs j mod r or k mod r among the rank's residues (else
// none) and i mod r among them (two block rows of every r). The loop thus
// visits about 4/r of the (j, k) pairs and 2/r of the i, O(nt³/P) in all,
// near the rank's own share, as updateRange does for Cyclic2D.
func sbcUpdates(a *Matrix, d SBC, j, k int, f func(i int) error) error {
	nt := a.nt
	me := a.rt.Rank()
	if me >= d.Size() {
		return nil // not in the distribution: no tiles, no tasks
	}
	if d.Owner(j, k) == me {
		for i := j + 1; i < nt; i++ {
			if err := f(i); err != nil {
				return err
			}
		}
		return nil
	}
	if !d.Holds(me, j) && !d.Holds(me, k) {
		return nil
	}
	ra, rb := d.Residues(me)
	r := d.R()
	for base := (j + 1) / r * r; base < nt; base += r {
		for _, c := range [2]int{ra, rb} {
			if i := base + c; i > j && i < nt {
				if err := f(i); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// submitUpdate submits step k's GEMM update of tile (i, j), i > j > k, of
// the trailing matrix: A(i,j) -= L(i,k) L(j,k)ᵀ (lower) or A(j,i) -=
// U(k,j)ᵀ U(k,i) (upper). A rank that leaves it out allocates nothing.
func submitUpdate(a *Matrix, uplo blas.Uplo, i, j, k, prio int, skip func() bool) error {
	w, x, y := tileRef{a, i, j}, tileRef{a, i, k}, tileRef{a, j, k}
	ta, tb := blas.NoTrans, blas.Trans
	if uplo == blas.Upper {
		w, x, y = tileRef{a, j, i}, tileRef{a, k, j}, tileRef{a, k, i}
		ta, tb = blas.Trans, blas.NoTrans
	}
	if out, err := prunedOut(w, x, y); out || err != nil {
		return err
	}
	return submitTile(w, []tileRef{x, y}, prio, "gemm", func(t *dagmpi.Task) error {
		if skip() {
			return nil
		}
		c, ldc := w.buf(t)
		xv, ldx := x.buf(t)
		yv, ldy := y.buf(t)
		m, n := a.TileDims(w.i, w.j)
		kernels.Gemm(ta, tb, m, n, a.nb, -1, xv, ldx, yv, ldy, 1, c, ldc)
		return nil
	})
}

// agreeInfo makes every rank agree on the first failing column of a
// factorization of a whose tile factorizations record their INFO in failed:
// each rank's part of the agreement reads that rank's diagonal tiles, so it
// runs after their factorizations (they live on the rank: no transfer). It
// is collective.
func agreeInfo(a *Matrix, failed *atomic.Int64) (int, error) {
	return agreeMin(a.rt, failed, "potrf-info", func(r int) []dagmpi.Arg {
		var args []dagmpi.Arg
		for k := 0; k < a.nt; k++ {
			if a.Owner(k, k) == r {
				args = append(args, a.Tile(k, k).Read())
			}
		}
		return args
	})
}

// agreeMin makes every rank agree on the smallest nonzero value that any
// rank stored in its failed (0 when none did): a one-value Data passes from
// rank to rank (0, 1, ..., P-1), each rank's task, named name and ordered
// by the accesses after(r) returns (reads of what the recording tasks
// wrote), taking the minimum with the rank's own record; FetchAll gives the
// result to all. It is collective.
func agreeMin(rt *dagmpi.Runtime, failed *atomic.Int64, name string, after func(r int) []dagmpi.Arg) (int, error) {
	info, err := dagmpi.NewData[float64](rt, 1, 0, nil) // zeroed
	if err != nil {
		return 0, err
	}
	me := rt.Rank()
	for r := 0; r < rt.Size(); r++ {
		prev := max(r-1, 0)
		if rt.Pruned() && me != r && me != prev {
			if err := info.ProducedOn(r); err != nil {
				return 0, err
			}
			continue
		}
		args := append([]dagmpi.Arg{info.ReadWrite(), dagmpi.OnRank(r), dagmpi.Name(name), dagmpi.Priority(-1)}, after(r)...)
		if err := rt.Submit(func(t *dagmpi.Task) error {
			v := info.Buf(t)
			mine := float64(failed.Load())
			if mine != 0 && (v[0] == 0 || mine < v[0]) {
				v[0] = mine
			}
			return nil
		}, args...); err != nil {
			return 0, err
		}
	}
	v, err := info.FetchAll()
	if err != nil {
		return 0, err
	}
	return int(v[0]), nil
}
