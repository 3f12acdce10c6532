package kernels

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/lapack/gonum"
)

// The column-major to row-major mapping, written once.
//
// A column-major r x c array with leading dimension ld holds entry (i, j) at
// a[i + j*ld]. Read as row-major it is the c x r array with stride ld whose
// entry (j, i) is at a[j*ld + i]: the same memory is the transpose. gonum's
// blas64 routines are row-major, so each kernel below states its column-major
// operation, transposes both sides and calls the row-major routine on the
// transposed views, with the same slices and leading dimensions:
//
//	Gemm  C = α op(A) op(B) + β C      ⇔  Cᵀ = α op(B)ᵀ op(A)ᵀ + β Cᵀ
//	      row-major Dgemm(tB, tA, n, m, k, α, b, a, β, c): operands swap, dims swap.
//	Syrk  C = α A Aᵀ + β C (lower)     ⇔  Cᵀ = α (Aᵀ)ᵀ Aᵀ + β Cᵀ (upper)
//	      row-major Dsyrk with uplo and trans both flipped.
//	Trsm  op(A) X = α B (left)         ⇔  Xᵀ op(A)ᵀ = α Bᵀ (right), Aᵀ has the other triangle
//	      row-major Dtrsm with side and uplo flipped, trans and diag kept, m and n swapped.
//	Potrf A = L Lᵀ (lower)             ⇔  Aᵀ = Uᵀ U with U = Lᵀ (upper)
//	      row-major Dpotrf with uplo flipped.
//
// The slice-length checks of gonum's routines then coincide with the
// column-major ones (len(a) ≥ ld*(c-1) + r).

func flipUplo(ul blas.Uplo) blas.Uplo {
	switch ul {
	case blas.Lower:
		return blas.Upper
	case blas.Upper:
		return blas.Lower
	}
	panic(errUplo)
}

func flipTrans(t blas.Transpose) blas.Transpose {
	switch t {
	case blas.NoTrans:
		return blas.Trans
	case blas.Trans, blas.ConjTrans:
		return blas.NoTrans
	}
	panic(errTrans)
}

func flipSide(s blas.Side) blas.Side {
	if s == blas.Left {
		return blas.Right
	}
	return blas.Left
}

// Gemm computes C = alpha op(A) op(B) + beta C on column-major arrays, as
// BLAS DGEMM: op(A) is m x k, op(B) is k x n, C is m x n; op(X) is X or Xᵀ
// as transA and transB say. It runs on OpenBLAS (one thread unless
// SetNumThreads said otherwise). Bad arguments panic.
func Gemm(transA, transB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	impl.Dgemm(transB, transA, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc)
}

// Syrk computes the uplo triangle of C = alpha op(A) op(A)ᵀ + beta C on
// column-major arrays, as BLAS DSYRK: C is n x n; op(A) is A (n x k) when
// trans is blas.NoTrans, Aᵀ (A is k x n) when it is blas.Trans. The other
// triangle of C is not touched.
func Syrk(uplo blas.Uplo, trans blas.Transpose, n, k int, alpha float64, a []float64, lda int, beta float64, c []float64, ldc int) {
	if n == 0 {
		return
	}
	impl.Dsyrk(flipUplo(uplo), flipTrans(trans), n, k, alpha, a, lda, beta, c, ldc)
}

// Trsm solves op(A) X = alpha B (side blas.Left) or X op(A) = alpha B (side
// blas.Right) for X, overwriting the m x n column-major B, as BLAS DTRSM. A
// is triangular (uplo), of order m for Left and n for Right; diag says
// whether its diagonal is taken as ones.
//
// Above order 64 of A it halves A recursively and moves most of the work
// into DGEMM (see trsmRec): OpenBLAS 0.3.21's DTRSM runs at a quarter of
// its DGEMM rate with the SkylakeX kernels.
func Trsm(side blas.Side, uplo blas.Uplo, transA blas.Transpose, diag blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	// The recursion slices A and B: check them whole first, so that misuse
	// panics with what is wrong rather than a slice bound.
	na := m
	if side == blas.Right {
		na = n
	}
	checkSquare(uplo, na, a, lda)
	checkArray(m, n, b, ldb)
	switch {
	case side != blas.Left && side != blas.Right:
		panic(errSide)
	case transA != blas.NoTrans && transA != blas.Trans && transA != blas.ConjTrans:
		panic(errTrans)
	case diag != blas.Unit && diag != blas.NonUnit:
		panic(errDiag)
	}
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 {
		// As DTRSM: B = 0 without reading A (nor B's old contents).
		impl.Dtrsm(flipSide(side), flipUplo(uplo), transA, diag, n, m, alpha, a, lda, b, ldb)
		return
	}
	trsmRec(side, uplo, transA, diag, m, n, alpha, a, lda, b, ldb)
}

// Trmm computes B = alpha op(A) B (side blas.Left) or B = alpha B op(A)
// (side blas.Right) on the m x n column-major B, as BLAS DTRMM, with A
// triangular as for Trsm.
func Trmm(side blas.Side, uplo blas.Uplo, transA blas.Transpose, diag blas.Diag, m, n int, alpha float64, a []float64, lda int, b []float64, ldb int) {
	if m == 0 || n == 0 {
		return
	}
	impl.Dtrmm(flipSide(side), flipUplo(uplo), transA, diag, n, m, alpha, a, lda, b, ldb)
}

// Potrf computes the Cholesky factorization of the symmetric positive
// definite n x n column-major A, as LAPACK DPOTRF: A = L Lᵀ with L lower
// triangular (uplo blas.Lower) or A = Uᵀ U (blas.Upper), written over the
// uplo triangle of A; the other triangle is not touched.
//
// If a leading minor is not positive definite it returns a
// *NotPositiveDefiniteError whose Column is LAPACK's INFO. This is a result,
// not misuse: bad arguments panic instead.
//
// With cgo it calls OpenBLAS's DPOTRF (1.2 to 1.5 times as fast as gonum's
// blocked Dpotrf on the same OpenBLAS level-3 calls at nb = 256: see
// BenchmarkPotrf); without cgo, gonum's.
func Potrf(uplo blas.Uplo, n int, a []float64, lda int) error {
	checkSquare(uplo, n, a, lda)
	if n == 0 {
		return nil
	}
	info := lapackPotrf(uplo, n, a, lda)
	if info == 0 {
		// OpenBLAS's DPOTRF tests pivot <= 0 but not NaN, which then
		// spreads to every later pivot: the first NaN on the diagonal is
		// where LAPACK's reference DPOTRF would have stopped.
		for j := 0; j < n; j++ {
			if math.IsNaN(a[j+j*lda]) {
				info = j + 1
				break
			}
		}
	}
	if info != 0 {
		return &NotPositiveDefiniteError{Column: info, N: n}
	}
	return nil
}

// Trtri replaces the n x n column-major triangular A (uplo; diag says
// whether its diagonal is taken as ones) by its inverse, as LAPACK DTRTRI,
// touching only the uplo triangle. It returns a *SingularError if a
// diagonal entry is exactly zero.
//
// It exists for solving through the inverse: with OpenBLAS 0.3.21's
// SkylakeX kernels DTRSM runs at about a quarter of DGEMM's rate (half its
// Haswell rate) while DTRMM runs at about two thirds of DGEMM's, so a task
// graph may invert each diagonal tile once and apply it to the tiles below
// it with Trmm (or Gemm) instead of Trsm. LAPACK's DTRTRI is slow there
// (5-10 GFLOP/s at n = 256-512), so above order 64 Trtri halves the
// triangle recursively, inverts the halves and forms the off-diagonal block
// with two DTRMMs: 17, 26-30 and 25 GFLOP/s at n = 256, 384 and 512, 3 to
// 3.6 times DTRTRI (BenchmarkTrsm, BenchmarkTrmm, BenchmarkTrtri).
func Trtri(uplo blas.Uplo, diag blas.Diag, n int, a []float64, lda int) error {
	checkSquare(uplo, n, a, lda)
	if diag != blas.Unit && diag != blas.NonUnit {
		panic(errDiag)
	}
	if n == 0 {
		return nil
	}
	if diag == blas.NonUnit {
		for i := 0; i < n; i++ {
			if a[i+i*lda] == 0 {
				return &SingularError{Index: i + 1, N: n}
			}
		}
	}
	trtriRec(uplo, diag, n, a, lda)
	return nil
}

// PotrfGonum is Potrf on gonum's native blocked Dpotrf (its level-3 calls
// run on OpenBLAS through blas64). It exists for comparison; Potrf is the
// kernel to use.
func PotrfGonum(uplo blas.Uplo, n int, a []float64, lda int) error {
	checkSquare(uplo, n, a, lda)
	if n == 0 {
		return nil
	}
	if info := potrfGonum(uplo, n, a, lda); info != 0 {
		return &NotPositiveDefiniteError{Column: info, N: n}
	}
	return nil
}

func checkSquare(uplo blas.Uplo, n int, a []float64, lda int) {
	if uplo != blas.Lower && uplo != blas.Upper {
		panic(errUplo)
	}
	checkArray(n, n, a, lda)
}

// checkArray panics unless a can hold an r x c column-major array with
// leading dimension ld.
func checkArray(r, c int, a []float64, ld int) {
	switch {
	case r < 0 || c < 0:
		panic(errShape)
	case ld < max(1, r):
		panic(errLd)
	case r > 0 && c > 0 && len(a) < ld*(c-1)+r:
		panic(errShort)
	}
}

// potrfGonum runs gonum's Dpotrf on the row-major view and recovers INFO.
// gonum reports only success; on failure the factored columns before the
// failing one have positive diagonals (square roots of positive numbers) and
// the failing pivot holds the non-positive or NaN value met, as LAPACK leaves
// it, so INFO is the first diagonal entry that is not positive.
func potrfGonum(uplo blas.Uplo, n int, a []float64, lda int) int {
	if (gonum.Implementation{}).Dpotrf(flipUplo(uplo), n, a, lda) {
		return 0
	}
	for j := 0; j < n; j++ {
		if d := a[j+j*lda]; !(d > 0) || math.IsNaN(d) {
			return j + 1
		}
	}
	return n // not reached: gonum failed, so some pivot is not positive
}

// Lacpy copies the uplo part of the m x n column-major A into B, as LAPACK
// DLACPY: blas.Upper copies the upper trapezoid, blas.Lower the lower one,
// blas.All everything.
func Lacpy(uplo blas.Uplo, m, n int, a []float64, lda int, b []float64, ldb int) {
	checkArray(m, n, a, lda)
	checkArray(m, n, b, ldb)
	for j := 0; j < n; j++ {
		lo, hi := 0, m
		switch uplo {
		case blas.Upper:
			hi = min(j+1, m)
		case blas.Lower:
			lo = min(j, m)
		case blas.All:
		default:
			panic(errUplo)
		}
		copy(b[lo+j*ldb:hi+j*ldb], a[lo+j*lda:hi+j*lda])
	}
}

// Laset sets the off-diagonal entries of the uplo part of the m x n
// column-major A to alpha and its diagonal to beta, as LAPACK DLASET
// (blas.All: the whole array).
func Laset(uplo blas.Uplo, m, n int, alpha, beta float64, a []float64, lda int) {
	checkArray(m, n, a, lda)
	for j := 0; j < n; j++ {
		lo, hi := 0, m
		switch uplo {
		case blas.Upper:
			hi = min(j, m)
		case blas.Lower:
			lo = min(j+1, m)
		case blas.All:
		default:
			panic(errUplo)
		}
		col := a[j*lda : j*lda+m]
		for i := lo; i < hi; i++ {
			col[i] = alpha
		}
		if uplo == blas.All {
			if j < m {
				col[j] = beta
			}
		}
	}
	if uplo != blas.All {
		for j := 0; j < min(m, n); j++ {
			a[j+j*lda] = beta
		}
	}
}

// Transpose writes the transpose of the m x n column-major A into the n x m
// column-major B. Read the other way it converts layouts: the m x n
// row-major array with stride lda is Aᵀ in column-major terms, so
// Transpose(n, m, rowMajor, stride, colMajor, ld) converts an m x n
// row-major array (a gonum mat.Dense's RawMatrix) to column-major, and
// Transpose(m, n, colMajor, ld, rowMajor, stride) converts back.
func Transpose(m, n int, a []float64, lda int, b []float64, ldb int) {
	checkArray(m, n, a, lda)
	checkArray(n, m, b, ldb)
	const blk = 32 // cache blocking
	for jj := 0; jj < n; jj += blk {
		for ii := 0; ii < m; ii += blk {
			for j := jj; j < min(jj+blk, n); j++ {
				for i := ii; i < min(ii+blk, m); i++ {
					b[j+i*ldb] = a[i+j*lda]
				}
			}
		}
	}
}
