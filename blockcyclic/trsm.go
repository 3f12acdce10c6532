package blockcyclic

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/dagmpi"
)

// Trsm solves op(A) X = alpha B (side blas.Left) or X op(A) = alpha B
// (side blas.Right) for X, overwriting B, as BLAS DTRSM: A is an n x n
// triangular matrix (uplo, diag) with square nb x nb tiles and op(A) is A
// or Aᵀ as trans says (blas.ConjTrans is blas.Trans). With side blas.Left,
// B is n x nrhs with row block size nb (any column block size); with
// blas.Right, B is m x n with column block size nb (any row block size).
//
// It is collective and only submits tasks (a tile TRSM per tile of B's
// block row (Left) or block column (Right) being solved, then the GEMM
// updates of the rows or columns still to solve, owner computes on B's
// tiles; pruned like the other routines); Wait or Gather order after them.
func Trsm(side blas.Side, uplo blas.Uplo, trans blas.Transpose, diag blas.Diag, alpha float64, a, b *Matrix) error {
	if side != blas.Left && side != blas.Right {
		return fmt.Errorf("blockcyclic: Trsm: side %q: want blas.Left or blas.Right", rune(side))
	}
	if err := checkUplo("Trsm", uplo); err != nil {
		return err
	}
	if trans != blas.NoTrans && trans != blas.Trans && trans != blas.ConjTrans {
		return fmt.Errorf("blockcyclic: Trsm: trans %q: want blas.NoTrans or blas.Trans", rune(trans))
	}
	if diag != blas.Unit && diag != blas.NonUnit {
		return fmt.Errorf("blockcyclic: Trsm: diag %q: want blas.Unit or blas.NonUnit", rune(diag))
	}
	if err := checkSquareTiles("Trsm", "A", a); err != nil {
		return err
	}
	if b == nil {
		return fmt.Errorf("blockcyclic: Trsm: nil matrix B")
	}
	if b.rt != a.rt {
		return fmt.Errorf("blockcyclic: Trsm: A and B belong to different Runtimes")
	}
	if side == blas.Left && (b.m != a.n || b.mb != a.nb) {
		return fmt.Errorf("blockcyclic: Trsm: side Left: A is %d x %d in %d x %d tiles, B is %d x %d in %d x %d tiles: B needs %d rows in blocks of %d",
			a.m, a.n, a.mb, a.nb, b.m, b.n, b.mb, b.nb, a.n, a.nb)
	}
	if side == blas.Right && (b.n != a.n || b.nb != a.nb) {
		return fmt.Errorf("blockcyclic: Trsm: side Right: A is %d x %d in %d x %d tiles, B is %d x %d in %d x %d tiles: B needs %d columns in blocks of %d",
			a.m, a.n, a.mb, a.nb, b.m, b.n, b.mb, b.nb, a.n, a.nb)
	}
	if trans == blas.ConjTrans {
		trans = blas.Trans
	}
	if side == blas.Right {
		return trsmRight(uplo, trans, diag, alpha, a, b)
	}
	mt := a.nt
	// Forward substitution for L X = B and Uᵀ X = B, backward for the others.
	forward := (uplo == blas.Lower) == (trans == blas.NoTrans)
	step := func(s int) int {
		if forward {
			return s
		}
		return mt - 1 - s
	}
	for s := 0; s < mt; s++ {
		k := step(s)
		lalpha := 1.0
		if s == 0 {
			lalpha = alpha
		}
		kk := tileRef{a, k, k}
		for j := 0; j < b.nt; j++ {
			w := tileRef{b, k, j}
			la := lalpha
			if err := submitTile(w, []tileRef{kk}, 2*(mt-s)+1, "trsm", func(t *dagmpi.Task) error {
				x, ldx := w.buf(t)
				l, ldl := kk.buf(t)
				m, n := b.TileDims(k, j)
				kernels.Trsm(blas.Left, uplo, trans, diag, m, n, la, l, ldl, x, ldx)
				return nil
			}); err != nil {
				return err
			}
		}
		// Update the rows still to solve: B(i,:) = lalpha B(i,:) - op(A)(i,k) X(k,:).
		for s2 := s + 1; s2 < mt; s2++ {
			i := step(s2)
			// op(A)(i,k) is A(i,k), or A(k,i)ᵀ.
			ar, ta := tileRef{a, i, k}, blas.NoTrans
			if trans == blas.Trans {
				ar, ta = tileRef{a, k, i}, blas.Trans
			}
			for j := 0; j < b.nt; j++ {
				w, x := tileRef{b, i, j}, tileRef{b, k, j}
				la := lalpha
				if err := submitTile(w, []tileRef{ar, x}, 2*(mt-s), "trsm-gemm", func(t *dagmpi.Task) error {
					c, ldc := w.buf(t)
					av, lda := ar.buf(t)
					xv, ldx := x.buf(t)
					m, n := b.TileDims(i, j)
					kk, _ := b.TileDims(k, j)
					kernels.Gemm(ta, blas.NoTrans, m, n, kk, -1, av, lda, xv, ldx, la, c, ldc)
					return nil
				}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// trsmRight solves X op(A) = alpha B block column by block column: X U = B
// and X Lᵀ = B go forward (column k needs the columns before it), X L = B
// and X Uᵀ = B backward. Step s solves block column k = step(s) with a tile
// TRSM on each tile of B's column k (scaling by alpha at the first step),
// then updates every column i still to solve:
// B(:,i) = lalpha B(:,i) - X(:,k) op(A)(k,i).
func trsmRight(uplo blas.Uplo, trans blas.Transpose, diag blas.Diag, alpha float64, a, b *Matrix) error {
	nt := a.nt
	forward := (uplo == blas.Upper) == (trans == blas.NoTrans)
	step := func(s int) int {
		if forward {
			return s
		}
		return nt - 1 - s
	}
	for s := 0; s < nt; s++ {
		k := step(s)
		lalpha := 1.0
		if s == 0 {
			lalpha = alpha
		}
		kk := tileRef{a, k, k}
		for j := 0; j < b.mt; j++ {
			w := tileRef{b, j, k}
			la := lalpha
			if err := submitTile(w, []tileRef{kk}, 2*(nt-s)+1, "trsm", func(t *dagmpi.Task) error {
				x, ldx := w.buf(t)
				l, ldl := kk.buf(t)
				m, n := b.TileDims(j, k)
				kernels.Trsm(blas.Right, uplo, trans, diag, m, n, la, l, ldl, x, ldx)
				return nil
			}); err != nil {
				return err
			}
		}
		for s2 := s + 1; s2 < nt; s2++ {
			i := step(s2)
			// op(A)(k,i) is A(k,i), or A(i,k)ᵀ.
			ar, ta := tileRef{a, k, i}, blas.NoTrans
			if trans == blas.Trans {
				ar, ta = tileRef{a, i, k}, blas.Trans
			}
			for j := 0; j < b.mt; j++ {
				w, x := tileRef{b, j, i}, tileRef{b, j, k}
				la := lalpha
				if err := submitTile(w, []tileRef{x, ar}, 2*(nt-s), "trsm-gemm", func(t *dagmpi.Task) error {
					c, ldc := w.buf(t)
					xv, ldx := x.buf(t)
					av, lda := ar.buf(t)
					m, n := b.TileDims(j, i)
					_, kk := b.TileDims(j, k)
					kernels.Gemm(blas.NoTrans, ta, m, n, kk, -1, xv, ldx, av, lda, la, c, ldc)
					return nil
				}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Syrk computes the uplo triangle of C = alpha A Aᵀ + beta C (trans
// blas.NoTrans, A n x k) or C = alpha Aᵀ A + beta C (blas.Trans, A k x n),
// as BLAS DSYRK, on distributed matrices: C is n x n with square nb x nb
// tiles and A's blocks along n are nb too. The other triangle of C is not
// touched. It is collective and only submits tasks (tile SYRK and GEMM,
// owner computes on C's tiles).
func Syrk(uplo blas.Uplo, trans blas.Transpose, alpha float64, a *Matrix, beta float64, c *Matrix) error {
	if err := checkUplo("Syrk", uplo); err != nil {
		return err
	}
	if trans != blas.NoTrans && trans != blas.Trans && trans != blas.ConjTrans {
		return fmt.Errorf("blockcyclic: Syrk: trans %q: want blas.NoTrans or blas.Trans", rune(trans))
	}
	if trans == blas.ConjTrans {
		trans = blas.Trans
	}
	if err := checkSquareTiles("Syrk", "C", c); err != nil {
		return err
	}
	if a == nil {
		return fmt.Errorf("blockcyclic: Syrk: nil matrix A")
	}
	if a.rt != c.rt {
		return fmt.Errorf("blockcyclic: Syrk: A and C belong to different Runtimes")
	}
	n, nb, kt := a.m, a.mb, a.nt
	if trans == blas.Trans {
		n, nb, kt = a.n, a.nb, a.mt
	}
	if n != c.n || nb != c.nb {
		return fmt.Errorf("blockcyclic: Syrk: C is %d x %d in %d x %d tiles, but op(A) has %d rows in blocks of %d (A is %d x %d in %d x %d tiles)",
			c.m, c.n, c.mb, c.nb, n, nb, a.m, a.n, a.mb, a.nb)
	}
	// opA(i, l) is the tile of op(A) at block row i, block column l.
	opA := func(i, l int) tileRef {
		if trans == blas.NoTrans {
			return tileRef{a, i, l}
		}
		return tileRef{a, l, i}
	}
	nt := c.nt
	for j := 0; j < nt; j++ {
		for i := 0; i < nt; i++ {
			if (uplo == blas.Lower && i < j) || (uplo == blas.Upper && i > j) {
				continue
			}
			w := tileRef{c, i, j}
			if kt == 0 {
				if err := submitTile(w, nil, 0, "syrk-scale", func(t *dagmpi.Task) error {
					cv, ldc := w.buf(t)
					m, nn := c.TileDims(i, j)
					if i == j {
						kernels.Syrk(uplo, blas.NoTrans, m, 0, 0, nil, 1, beta, cv, ldc)
					} else {
						kernels.Gemm(blas.NoTrans, blas.NoTrans, m, nn, 0, 0, nil, 1, nil, 1, beta, cv, ldc)
					}
					return nil
				}); err != nil {
					return err
				}
			}
			for l := 0; l < kt; l++ {
				bt := 1.0
				if l == 0 {
					bt = beta
				}
				x, y := opA(i, l), opA(j, l)
				reads := []tileRef{x, y}
				if i == j {
					reads = reads[:1]
				}
				if err := submitTile(w, reads, kt-l, "syrk", func(t *dagmpi.Task) error {
					cv, ldc := w.buf(t)
					xv, ldx := x.buf(t)
					m, nn := c.TileDims(i, j)
					var inner int
					if trans == blas.NoTrans {
						_, inner = a.TileDims(i, l)
					} else {
						inner, _ = a.TileDims(l, i)
					}
					if i == j {
						kernels.Syrk(uplo, trans, m, inner, alpha, xv, ldx, bt, cv, ldc)
						return nil
					}
					yv, ldy := y.buf(t)
					if trans == blas.NoTrans {
						kernels.Gemm(blas.NoTrans, blas.Trans, m, nn, inner, alpha, xv, ldx, yv, ldy, bt, cv, ldc)
					} else {
						kernels.Gemm(blas.Trans, blas.NoTrans, m, nn, inner, alpha, xv, ldx, yv, ldy, bt, cv, ldc)
					}
					return nil
				}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Potrs solves A X = B with the Cholesky factor of A from Potrf (same
// uplo), overwriting B with X, as LAPACK DPOTRS: two triangular solves.
// B is n x nrhs with row block size A's nb. It is collective and only
// submits tasks.
func Potrs(uplo blas.Uplo, a, b *Matrix) error {
	if err := checkUplo("Potrs", uplo); err != nil {
		return err
	}
	first, second := blas.NoTrans, blas.Trans // L Y = B, Lᵀ X = Y
	if uplo == blas.Upper {
		first, second = blas.Trans, blas.NoTrans // Uᵀ Y = B, U X = Y
	}
	if err := Trsm(blas.Left, uplo, first, blas.NonUnit, 1, a, b); err != nil {
		return fmt.Errorf("blockcyclic: Potrs: %w", err)
	}
	if err := Trsm(blas.Left, uplo, second, blas.NonUnit, 1, a, b); err != nil {
		return fmt.Errorf("blockcyclic: Potrs: %w", err)
	}
	return nil
}

// Posv solves A X = B for symmetric positive definite A, as LAPACK DPOSV:
// Potrf(uplo, a) then Potrs. A is overwritten by its factor and B by X.
// If A is not positive definite it returns Potrf's error on every rank and
// leaves B as it was.
func Posv(uplo blas.Uplo, a, b *Matrix) error {
	if err := checkSquareTiles("Posv", "A", a); err != nil {
		return err
	}
	if b == nil || b.m != a.n || b.mb != a.nb {
		return fmt.Errorf("blockcyclic: Posv: B must have %d rows in blocks of %d", a.n, a.nb)
	}
	if err := Potrf(uplo, a); err != nil {
		return err
	}
	return Potrs(uplo, a, b)
}
