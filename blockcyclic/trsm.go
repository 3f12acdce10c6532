package blockcyclic

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Trsm solves op(A) X = alpha B for X, overwriting B, as ScaLAPACK's PDTRSM
// with SIDE = 'L': A is an n x n triangular matrix (uplo; diag says whether
// its diagonal is taken as ones), op(A) is A or Aᵀ (trans), B is n x nrhs.
// B's tile rows must match A's tiles (B's MB_ = A's NB_). It submits a tile
// task graph and does not wait.
func Trsm(uplo blas.Uplo, trans blas.Transpose, diag blas.Diag, alpha float64, a, b *Matrix) error {
	if err := checkSquare("Trsm", a); err != nil {
		return err
	}
	switch {
	case uplo != blas.Lower && uplo != blas.Upper:
		return fmt.Errorf("blockcyclic: Trsm: uplo %q is neither Lower nor Upper", rune(uplo))
	case trans != blas.NoTrans && trans != blas.Trans && trans != blas.ConjTrans:
		return fmt.Errorf("blockcyclic: Trsm: trans %q is not NoTrans, Trans or ConjTrans", rune(trans))
	case diag != blas.NonUnit && diag != blas.Unit:
		return fmt.Errorf("blockcyclic: Trsm: diag %q is neither NonUnit nor Unit", rune(diag))
	case b.m != a.n:
		return fmt.Errorf("blockcyclic: Trsm: A is %d x %d but B has %d rows", a.n, a.n, b.m)
	case b.mb != a.nb:
		return fmt.Errorf("blockcyclic: Trsm: B's row blocks (MB_ = %d) must match A's blocks (NB_ = %d)", b.mb, a.nb)
	case b.rt != a.rt:
		return fmt.Errorf("blockcyclic: Trsm: A and B belong to different Runtimes")
	}
	if trans == blas.ConjTrans {
		trans = blas.Trans
	}
	rt := a.rt
	nt, nc := a.nt, b.nt
	// Forward substitution for lower-NoTrans and upper-Trans, backward for
	// the others. op(A)(i, k) is A(i, k) without transpose, A(k, i) with.
	forward := (uplo == blas.Lower) == (trans == blas.NoTrans)
	step := func(s int) int {
		if forward {
			return s
		}
		return nt - 1 - s
	}
	opTile := func(i, k int) (int, int) {
		if trans == blas.NoTrans {
			return i, k
		}
		return k, i
	}
	for s := 0; s < nt; s++ {
		k := step(s)
		kk := a.Tile(k, k)
		nk, _ := a.TileDims(k, k)
		for j := 0; j < nc; j++ {
			bk := b.Tile(k, j)
			r, c := b.TileDims(k, j)
			al := 1.0
			if s == 0 {
				al = alpha
			}
			body := func(t *dagmpi.Task) error {
				kernels.Trsm(blas.Left, uplo, trans, diag, r, c, al, kk.Buf(t), nk, bk.Buf(t), r)
				return nil
			}
			if err := submit(rt, body, b.dist.Owner(k, j), bk, true, []tileRef{a.ref(k, k)}, prio(s, nt, 2), dagmpi.Name("trsm")); err != nil {
				return err
			}
			// B(i, j) = alpha B(i, j) - op(A)(i, k) B(k, j) for the rows i
			// still to solve (alpha applied on their first update).
			for s2 := s + 1; s2 < nt; s2++ {
				i := step(s2)
				ar, ac := opTile(i, k)
				ai := a.Tile(ar, ac)
				lda, _ := a.TileDims(ar, ac)
				bi := b.Tile(i, j)
				m, n := b.TileDims(i, j)
				beta := 1.0
				if s == 0 {
					beta = alpha
				}
				body := func(t *dagmpi.Task) error {
					kernels.Gemm(trans, blas.NoTrans, m, n, r, -1, ai.Buf(t), lda, bk.Buf(t), r, beta, bi.Buf(t), m)
					return nil
				}
				if err := submit(rt, body, b.dist.Owner(i, j), bi, true, []tileRef{a.ref(ar, ac), b.ref(k, j)}, prio(s, nt, 0), dagmpi.Name("gemm")); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Potrs solves A X = B with A factored by Potrf (uplo as given to it),
// overwriting B with X, as ScaLAPACK's PDPOTRS: two triangular solves. B's
// tile rows must match A's tiles. It submits and does not wait.
func Potrs(uplo blas.Uplo, a, b *Matrix) error {
	first, second := blas.NoTrans, blas.Trans // L Lᵀ X = B
	if uplo == blas.Upper {
		first, second = blas.Trans, blas.NoTrans // Uᵀ U X = B
	}
	if err := Trsm(uplo, first, blas.NonUnit, 1, a, b); err != nil {
		return fmt.Errorf("blockcyclic: Potrs: %w", err)
	}
	if err := Trsm(uplo, second, blas.NonUnit, 1, a, b); err != nil {
		return fmt.Errorf("blockcyclic: Potrs: %w", err)
	}
	return nil
}

// Posv solves A X = B for a symmetric positive definite A, as ScaLAPACK's
// PDPOSV: Potrf (A is overwritten by its factor), then Potrs (B by X). A
// matrix that is not positive definite gives every rank the same
// *NotPositiveDefiniteError and leaves B unchanged. It is collective; the
// solve is submitted and not waited for.
func Posv(uplo blas.Uplo, a, b *Matrix) error {
	if b.m != a.n || b.mb != a.nb {
		return fmt.Errorf("blockcyclic: Posv: B is %d x %d in %d-row tiles; it needs %d rows in %d-row tiles like A", b.m, b.n, b.mb, a.n, a.nb)
	}
	if err := Potrf(uplo, a); err != nil {
		return err
	}
	return Potrs(uplo, a, b)
}

// Syrk computes the uplo triangle of C = alpha A Aᵀ + beta C (trans
// blas.NoTrans, A is n x k) or C = alpha Aᵀ A + beta C (blas.Trans, A is
// k x n), as ScaLAPACK's PDSYRK. C is n x n with square tiles matching A's
// (A's tile rows for NoTrans, its tile columns for Trans). Tiles of C
// outside the uplo triangle are not touched; the diagonal tiles' other
// triangle is not touched either. It submits and does not wait.
func Syrk(uplo blas.Uplo, trans blas.Transpose, alpha float64, a *Matrix, beta float64, c *Matrix) error {
	if err := checkSquare("Syrk", c); err != nil {
		return err
	}
	if trans == blas.ConjTrans {
		trans = blas.Trans
	}
	n, k, nbA, kb := a.m, a.n, a.mb, a.nb
	if trans == blas.Trans {
		n, k, nbA, kb = a.n, a.m, a.nb, a.mb
	}
	switch {
	case uplo != blas.Lower && uplo != blas.Upper:
		return fmt.Errorf("blockcyclic: Syrk: uplo %q is neither Lower nor Upper", rune(uplo))
	case trans != blas.NoTrans && trans != blas.Trans:
		return fmt.Errorf("blockcyclic: Syrk: trans %q is not NoTrans or Trans", rune(trans))
	case n != c.n:
		return fmt.Errorf("blockcyclic: Syrk: op(A) has %d rows but C is %d x %d", n, c.n, c.n)
	case nbA != c.nb:
		return fmt.Errorf("blockcyclic: Syrk: op(A)'s row blocks (%d) must match C's blocks (%d)", nbA, c.nb)
	}
	rt := c.rt
	nt := c.nt
	kt := ceilDiv(k, kb)
	// opA(i, l) is the tile of op(A) in block row i, block column l.
	opA := func(i, l int) (int, int) {
		if trans == blas.NoTrans {
			return i, l
		}
		return l, i
	}
	for j := 0; j < nt; j++ {
		for i := 0; i < nt; i++ {
			if (uplo == blas.Lower && i < j) || (uplo == blas.Upper && i > j) {
				continue
			}
			cij := c.Tile(i, j)
			m, nn := c.TileDims(i, j)
			if kt == 0 {
				// C = beta C.
				body := func(t *dagmpi.Task) error {
					scaleTile(cij.Buf(t), beta)
					return nil
				}
				if err := submit(rt, body, c.dist.Owner(i, j), cij, true, nil, dagmpi.Name("scal")); err != nil {
					return err
				}
				continue
			}
			for l := 0; l < kt; l++ {
				b := 1.0
				if l == 0 {
					b = beta
				}
				ar, ac := opA(i, l)
				br, bc := opA(j, l)
				ai, aj := a.Tile(ar, ac), a.Tile(br, bc)
				lai, _ := a.TileDims(ar, ac)
				laj, _ := a.TileDims(br, bc)
				_, kl := a.TileDims(opA(0, l))
				if trans == blas.Trans {
					kl, _ = a.TileDims(opA(0, l))
				}
				reads := []tileRef{a.ref(ar, ac)}
				if i != j {
					reads = append(reads, a.ref(br, bc))
				}
				var body func(t *dagmpi.Task) error
				if i == j {
					body = func(t *dagmpi.Task) error {
						kernels.Syrk(uplo, trans, m, kl, alpha, ai.Buf(t), lai, b, cij.Buf(t), m)
						return nil
					}
				} else {
					tb := blas.Trans
					if trans == blas.Trans {
						tb = blas.NoTrans
					}
					body = func(t *dagmpi.Task) error {
						kernels.Gemm(trans, tb, m, nn, kl, alpha, ai.Buf(t), lai, aj.Buf(t), laj, b, cij.Buf(t), m)
						return nil
					}
				}
				if err := submit(rt, body, c.dist.Owner(i, j), cij, true, reads, dagmpi.Name("syrk")); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func scaleTile(x []float64, beta float64) {
	if beta == 1 {
		return
	}
	for i := range x {
		x[i] *= beta
	}
}
