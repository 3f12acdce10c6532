package blockcyclic

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// NotPositiveDefiniteError is Potrf's result for a matrix that is not
// positive definite: Column is LAPACK's INFO, the 1-based global column of
// the first leading minor that is not positive definite. Every rank gets the
// same error.
type NotPositiveDefiniteError struct {
	Column int
	N      int
}

func (e *NotPositiveDefiniteError) Error() string {
	return fmt.Sprintf("blockcyclic: Potrf: the leading minor of order %d of the %d x %d matrix is not positive definite (INFO = %d)", e.Column, e.N, e.N, e.Column)
}

// Priorities of the tile tasks: a task of step k outranks every task of
// later steps, and within a step the panel (POTRF, then TRSM) and the
// update of the next panel outrank the rest of the trailing update, so the
// critical path runs ahead (lookahead).
func prio(k, nt, bonus int) dagmpi.Arg { return dagmpi.Priority((nt-k)*4 + bonus) }

// submit submits a tile task running on exec that reads the tiles in reads
// and writes w, or, when the Runtime is pruned and this rank takes no part
// in it, only declares where w's new version lives.
func submit(rt *dagmpi.Runtime, body func(*dagmpi.Task) error, exec int, w *dagmpi.Data[float64], wOwner bool, reads []tileRef, args ...dagmpi.Arg) error {
	if rt.Pruned() && exec != rt.Rank() {
		involved := false
		for _, r := range reads {
			if r.owner == rt.Rank() {
				involved = true
				break
			}
		}
		if !involved {
			if w != nil {
				return w.ProducedOn(exec)
			}
			return nil
		}
	}
	all := make([]dagmpi.Arg, 0, len(reads)+len(args)+2)
	for _, r := range reads {
		all = append(all, r.d.Read())
	}
	if w != nil {
		all = append(all, w.ReadWrite())
	}
	all = append(all, dagmpi.OnRank(exec))
	all = append(all, args...)
	return rt.Submit(body, all...)
}

type tileRef struct {
	d     *dagmpi.Data[float64]
	owner int
}

func (a *Matrix) ref(i, j int) tileRef { return tileRef{a.Tile(i, j), a.dist.Owner(i, j)} }

func checkSquare(call string, a *Matrix) error {
	if a.m != a.n {
		return fmt.Errorf("blockcyclic: %s: the matrix is %d x %d, not square", call, a.m, a.n)
	}
	if a.mb != a.nb {
		return fmt.Errorf("blockcyclic: %s: tiles are %d x %d; square tiles (MB_ = NB_) are needed", call, a.mb, a.nb)
	}
	return nil
}

// Potrf computes the Cholesky factorization of the symmetric positive
// definite matrix a in place, as ScaLAPACK's PDPOTRF: A = L Lᵀ with L in the
// lower triangle (uplo blas.Lower) or A = Uᵀ U with U in the upper triangle
// (blas.Upper); only that triangle of a is read and written (the tiles of
// the other triangle, diagonal tiles excepted, are not touched).
//
// It is a tile task graph (right-looking: POTRF of the diagonal tile, TRSM of
// the panel below or right of it, SYRK and GEMM of the trailing matrix), each
// task on the owner of the tile it writes, with the panel and the next
// step's update first. It is collective and returns when the factorization
// is done: a matrix that is not positive definite gives every rank the same
// *NotPositiveDefiniteError naming the first failing column (LAPACK's INFO).
func Potrf(uplo blas.Uplo, a *Matrix) error {
	if err := checkSquare("Potrf", a); err != nil {
		return err
	}
	if uplo != blas.Lower && uplo != blas.Upper {
		return fmt.Errorf("blockcyclic: Potrf: uplo %q is neither Lower nor Upper", rune(uplo))
	}
	rt := a.rt
	nt := a.nt
	// INFO travels with the diagonal factorizations: each POTRF task reads
	// and updates it, skips its work once it is set, and every rank fetches
	// it at the end.
	info, err := dagmpi.NewData[int64](rt, 1, a.dist.Owner(0, 0), nil)
	if err != nil {
		return err
	}
	lower := uplo == blas.Lower
	// off(k, i) is the panel tile of step k in block row/column i > k.
	off := func(k, i int) (int, int) {
		if lower {
			return i, k
		}
		return k, i
	}
	for k := 0; k < nt; k++ {
		kk := a.Tile(k, k)
		nk, _ := a.TileDims(k, k)
		exec := a.dist.Owner(k, k)
		k := k
		body := func(t *dagmpi.Task) error {
			in := info.Buf(t)
			if in[0] != 0 {
				return nil
			}
			if err := kernels.Potrf(uplo, nk, kk.Buf(t), nk); err != nil {
				if npd, ok := err.(*kernels.NotPositiveDefiniteError); ok {
					in[0] = int64(k*a.nb + npd.Column)
					return nil
				}
				return err
			}
			return nil
		}
		// With pruning, the POTRF task concerns its rank and the rank that
		// holds INFO (the previous step's POTRF rank), which sends it.
		infoAt := a.dist.Owner(max(k-1, 0), max(k-1, 0))
		if rt.Pruned() && exec != rt.Rank() && infoAt != rt.Rank() {
			if err := kk.ProducedOn(exec); err != nil {
				return err
			}
			if err := info.ProducedOn(exec); err != nil {
				return err
			}
		} else if err := rt.Submit(body, kk.ReadWrite(), info.ReadWrite(), dagmpi.OnRank(exec), prio(k, nt, 3), dagmpi.Name("potrf")); err != nil {
			return err
		}
		// Panel: lower: A(i,k) = A(i,k) L(k,k)^-T; upper: A(k,i) = U(k,k)^-T A(k,i).
		for i := k + 1; i < nt; i++ {
			pi, pj := off(k, i)
			p := a.Tile(pi, pj)
			r, c := a.TileDims(pi, pj)
			body := func(t *dagmpi.Task) error {
				if lower {
					kernels.Trsm(blas.Right, blas.Lower, blas.Trans, blas.NonUnit, r, c, 1, kk.Buf(t), nk, p.Buf(t), r)
				} else {
					kernels.Trsm(blas.Left, blas.Upper, blas.Trans, blas.NonUnit, r, c, 1, kk.Buf(t), nk, p.Buf(t), r)
				}
				return nil
			}
			if err := submit(rt, body, a.dist.Owner(pi, pj), p, true, []tileRef{a.ref(k, k)}, prio(k, nt, 2), dagmpi.Name("trsm")); err != nil {
				return err
			}
		}
		// Trailing update.
		for j := k + 1; j < nt; j++ {
			bonus := 0
			if j == k+1 {
				bonus = 1
			}
			jr, jc := off(k, j)
			pj := a.Tile(jr, jc)
			pr, pc := a.TileDims(jr, jc)
			jj := a.Tile(j, j)
			nj, _ := a.TileDims(j, j)
			body := func(t *dagmpi.Task) error {
				if lower {
					// A(j,j) -= A(j,k) A(j,k)^T; A(j,k) is nj x nk.
					kernels.Syrk(blas.Lower, blas.NoTrans, nj, pc, -1, pj.Buf(t), pr, 1, jj.Buf(t), nj)
				} else {
					// A(j,j) -= A(k,j)^T A(k,j); A(k,j) is nk x nj.
					kernels.Syrk(blas.Upper, blas.Trans, nj, pr, -1, pj.Buf(t), pr, 1, jj.Buf(t), nj)
				}
				return nil
			}
			if err := submit(rt, body, a.dist.Owner(j, j), jj, true, []tileRef{a.ref(jr, jc)}, prio(k, nt, bonus), dagmpi.Name("syrk")); err != nil {
				return err
			}
			for i := j + 1; i < nt; i++ {
				ir, ic := off(k, i)
				pi := a.Tile(ir, ic)
				ar, ac := a.TileDims(ir, ic)
				// The updated tile: lower (i, j), upper (j, i).
				ur, uc := i, j
				if !lower {
					ur, uc = j, i
				}
				u := a.Tile(ur, uc)
				m, n := a.TileDims(ur, uc)
				body := func(t *dagmpi.Task) error {
					if lower {
						// A(i,j) -= A(i,k) A(j,k)^T: (m x nk) (nk x n).
						kernels.Gemm(blas.NoTrans, blas.Trans, m, n, ac, -1, pi.Buf(t), ar, pj.Buf(t), pr, 1, u.Buf(t), m)
					} else {
						// A(j,i) -= A(k,j)^T A(k,i): (m x nk) (nk x n).
						kernels.Gemm(blas.Trans, blas.NoTrans, m, n, pr, -1, pj.Buf(t), pr, pi.Buf(t), ar, 1, u.Buf(t), m)
					}
					return nil
				}
				if err := submit(rt, body, a.dist.Owner(ur, uc), u, true, []tileRef{a.ref(ir, ic), a.ref(jr, jc)}, prio(k, nt, bonus), dagmpi.Name("gemm")); err != nil {
					return err
				}
			}
		}
	}
	v, err := info.FetchAll()
	if err != nil {
		return err
	}
	if v[0] != 0 {
		return &NotPositiveDefiniteError{Column: int(v[0]), N: a.n}
	}
	return nil
}
