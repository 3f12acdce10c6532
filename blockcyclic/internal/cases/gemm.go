package cases

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/dagmpi"
)

// GemmTol bounds the scaled residual of a distributed GEMM,
//
//	||C - C_ref||_F / ((|alpha| ||A||_F ||B||_F + |beta| ||C0||_F) max(k, 1) eps),
//
// against a serial gonum product C_ref of the gathered inputs. The blocked
// sum reorders the k additions, which changes the result by a few ulps per
// element; the residual is O(1) in practice.
const GemmTol = 10

// GemmShape is a GEMM problem: op(A) is M x K, op(B) is K x N, tiles of C
// are MB x NB, and the inner block size is KB.
type GemmShape struct{ M, N, K, MB, NB, KB int }

func (s GemmShape) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d mb=%d nb=%d kb=%d", s.M, s.N, s.K, s.MB, s.NB, s.KB)
}

// GemmShapes straddle block boundaries: non-square m, n, k, partial last
// tiles, k < kb, a single tile, a single row or column.
var GemmShapes = []GemmShape{
	{9, 14, 11, 2, 3, 4},
	{5, 7, 3, 4, 4, 8}, // k < kb, m, n < their block sizes
	{12, 12, 12, 4, 4, 4},
	{13, 1, 6, 4, 2, 3},
	{1, 10, 7, 3, 3, 2},
}

// Transposes are the four (transA, transB) combinations.
var Transposes = [][2]blas.Transpose{
	{blas.NoTrans, blas.NoTrans}, {blas.Trans, blas.NoTrans},
	{blas.NoTrans, blas.Trans}, {blas.Trans, blas.Trans},
}

func init() {
	Register(Case{Name: "gemm/summa", Pruned: true, Run: gemmSumma})
	Register(Case{Name: "gemm/2.5d", Pruned: true, Run: gemm25D})
	Register(Case{Name: "gemm/special", Pruned: true, Run: gemmSpecial})
	Register(Case{Name: "gemm/errors", Run: gemmErrors})
}

func gemmA(i, j int) float64 { return float64((i*37+j*11)%17)/8 - 1 }
func gemmB(i, j int) float64 { return float64((i*13+j*29)%19)/9 - 1 }
func gemmC(i, j int) float64 { return float64((i*7+j*23)%11)/5 - 1 }

// GemmProblem is a GEMM's inputs, generated in place.
type GemmProblem struct {
	TA, TB      blas.Transpose
	Alpha, Beta float64
	A, B, C     *bc.Matrix
	S           GemmShape
	c0          func(i, j int) float64
}

// NewGemmProblem generates op(A), op(B) and C for shape s with the tile
// sizes Gemm requires, A distributed by da, B by db and C by dc.
func NewGemmProblem(rt *dagmpi.Runtime, s GemmShape, ta, tb blas.Transpose, alpha, beta float64, da, db, dc bc.Distribution) (*GemmProblem, error) {
	p := &GemmProblem{TA: ta, TB: tb, Alpha: alpha, Beta: beta, S: s, c0: gemmC}
	var err error
	if ta == blas.NoTrans {
		p.A, err = bc.NewMatrixFunc(rt, s.M, s.K, s.MB, s.KB, da, gemmA)
	} else {
		p.A, err = bc.NewMatrixFunc(rt, s.K, s.M, s.KB, s.MB, da, gemmA)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: A: %w", s, err)
	}
	if tb == blas.NoTrans {
		p.B, err = bc.NewMatrixFunc(rt, s.K, s.N, s.KB, s.NB, db, gemmB)
	} else {
		p.B, err = bc.NewMatrixFunc(rt, s.N, s.K, s.NB, s.KB, db, gemmB)
	}
	if err != nil {
		return nil, fmt.Errorf("%v: B: %w", s, err)
	}
	if p.C, err = bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, dc, p.c0); err != nil {
		return nil, fmt.Errorf("%v: C: %w", s, err)
	}
	return p, nil
}

func (p *GemmProblem) String() string {
	return fmt.Sprintf("%v trans %c%c alpha %g beta %g", p.S, p.TA, p.TB, p.Alpha, p.Beta)
}

// Check gathers A, B and C on root and compares C with the serial product
// of A, B and the initial C; it returns the scaled residual on root (0
// elsewhere) and an error if it exceeds GemmTol.
func (p *GemmProblem) Check(root int) (float64, error) {
	ga, err := p.A.Gather(root)
	if err != nil {
		return 0, err
	}
	gb, err := p.B.Gather(root)
	if err != nil {
		return 0, err
	}
	gc, err := p.C.Gather(root)
	if err != nil {
		return 0, err
	}
	if p.A.Runtime().Rank() != root {
		return 0, nil
	}
	s := p.S
	if s.M == 0 || s.N == 0 {
		return 0, nil
	}
	c0 := Dense(s.M, s.N, p.c0)
	want := mat.NewDense(s.M, s.N, nil)
	var na, nb float64
	if s.K > 0 {
		opA, opB := mat.Matrix(ga), mat.Matrix(gb)
		if p.TA != blas.NoTrans {
			opA = ga.T()
		}
		if p.TB != blas.NoTrans {
			opB = gb.T()
		}
		want.Mul(opA, opB)
		want.Scale(p.Alpha, want)
		na, nb = mat.Norm(ga, 2), mat.Norm(gb, 2)
	}
	var cs mat.Dense
	cs.Scale(p.Beta, c0)
	if p.Beta == 0 {
		cs.Zero() // 0 * NaN is NaN; BLAS does not read C when beta = 0
	}
	want.Add(want, &cs)
	var diff mat.Dense
	diff.Sub(gc, want)
	scale := math.Abs(p.Alpha) * na * nb
	if p.Beta != 0 {
		scale += math.Abs(p.Beta) * mat.Norm(c0, 2)
	}
	den := scale * float64(max(s.K, 1)) * Eps
	num := mat.Norm(&diff, 2)
	res := num / den
	if den == 0 {
		res = num
	}
	if !(res <= GemmTol) { // NaN fails too
		return res, fmt.Errorf("%v: residual ||C - C_ref|| / ((|alpha| ||A|| ||B|| + |beta| ||C0||) k eps) = %.3g exceeds %d", p, res, GemmTol)
	}
	return res, nil
}

// gemmSumma runs Gemm for every shape, transpose pair and grid, with A, B
// and C on different distributions.
func gemmSumma(rt *dagmpi.Runtime) error {
	size := rt.Size()
	grids := Grids(size)
	n := 0
	for gi, gc := range grids {
		for si, s := range GemmShapes {
			for ti, tr := range Transposes {
				// A and B on other grids than C, rotating.
				ga, gb := grids[(gi+si+1)%len(grids)], grids[(gi+ti+2)%len(grids)]
				p, err := NewGemmProblem(rt, s, tr[0], tr[1], 1.5-float64(ti), 0.5+float64(si)/4, ga, gb, gc)
				if err != nil {
					return err
				}
				if err := bc.Gemm(p.TA, p.TB, p.Alpha, p.A, p.B, p.Beta, p.C); err != nil {
					return fmt.Errorf("%v C on %+v: Gemm: %w", p, gc, err)
				}
				if _, err := p.Check(n % size); err != nil {
					return fmt.Errorf("C on %+v, A on %+v, B on %+v: %w", gc, ga, gb, err)
				}
				n++
			}
		}
	}
	return nil
}

// Grids3D returns the 3D layouts tests use on size ranks: every P x Q x R
// with P*Q*R = size.
func Grids3D(size int) []bc.Cyclic3D {
	var out []bc.Cyclic3D
	for r := 1; r <= size; r++ {
		for p := 1; p <= size/r; p++ {
			if size%(r*p) != 0 {
				continue
			}
			out = append(out, must(bc.NewCyclic3D(p, size/(r*p), r, bc.RowMajor, 0, 0)))
		}
	}
	return out
}

// gemm25D runs Gemm25D on every P x Q x R grid of the job (R = 1 and R =
// size included), A and B on the same 3D layout as C and on a 2D grid.
func gemm25D(rt *dagmpi.Runtime) error {
	size := rt.Size()
	n := 0
	for gi, g := range Grids3D(size) {
		for si, s := range GemmShapes {
			for ti, tr := range Transposes {
				var da, db bc.Distribution = g, g
				if (si+ti)%2 == 1 {
					da = Grids(size)[gi%len(Grids(size))]
				}
				p, err := NewGemmProblem(rt, s, tr[0], tr[1], -0.75, 1.25, da, db, g)
				if err != nil {
					return err
				}
				if err := bc.Gemm25D(p.TA, p.TB, p.Alpha, p.A, p.B, p.Beta, p.C); err != nil {
					return fmt.Errorf("%v C on %+v: Gemm25D: %w", p, g, err)
				}
				if _, err := p.Check(n % size); err != nil {
					return fmt.Errorf("Gemm25D, C on %+v: %w", g, err)
				}
				n++
			}
		}
	}
	return nil
}

// gemmSpecial covers alpha = 0, k = 0, beta = 0 with a NaN-filled C (C
// must not be read), and alpha = 1, beta = 1.
func gemmSpecial(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	g3 := Grids3D(rt.Size())
	nan := func(i, j int) float64 { return math.NaN() }
	for _, c := range []struct {
		s           GemmShape
		alpha, beta float64
		nanC        bool
	}{
		{GemmShape{9, 7, 5, 2, 3, 2}, 0, 0.5, false},
		{GemmShape{9, 7, 0, 2, 3, 2}, 2, -1, false},
		{GemmShape{9, 7, 0, 2, 3, 2}, 2, 0, true},
		{GemmShape{9, 7, 5, 2, 3, 2}, 1, 0, true},
		{GemmShape{9, 7, 5, 2, 3, 2}, 1, 1, false},
		{GemmShape{0, 7, 5, 2, 3, 2}, 1, 1, false},
	} {
		for _, twoFive := range []bool{false, true} {
			dc := bc.Distribution(g)
			if twoFive {
				dc = g3[len(g3)-1] // the most layers
			}
			p, err := NewGemmProblem(rt, c.s, blas.NoTrans, blas.Trans, c.alpha, c.beta, g, g, dc)
			if err != nil {
				return err
			}
			if c.nanC {
				if p.C, err = bc.NewMatrixFunc(rt, c.s.M, c.s.N, c.s.MB, c.s.NB, dc, nan); err != nil {
					return err
				}
				p.c0 = nan
			}
			call := bc.Gemm
			if twoFive {
				call = bc.Gemm25D
			}
			if err := call(p.TA, p.TB, p.Alpha, p.A, p.B, p.Beta, p.C); err != nil {
				return fmt.Errorf("%v (2.5D %v): %w", p, twoFive, err)
			}
			if _, err := p.Check(0); err != nil {
				return fmt.Errorf("2.5D %v: %w", twoFive, err)
			}
		}
	}
	return nil
}

// gemmErrors checks that non-conformant sizes, mismatched tiles and bad
// options are refused, with errors naming the dimension, on every rank.
func gemmErrors(rt *dagmpi.Runtime) error {
	g := Grids(rt.Size())[0]
	mk := func(m, n, mb, nb int) *bc.Matrix {
		a, err := bc.NewMatrix(rt, m, n, mb, nb, g)
		if err != nil {
			panic(err)
		}
		return a
	}
	a, b, c := mk(6, 4, 2, 2), mk(4, 5, 2, 2), mk(6, 5, 2, 2)
	N, T := blas.NoTrans, blas.Trans
	checks := []struct {
		name string
		err  error
		want string
	}{
		{"ok", bc.Gemm(N, N, 1, a, b, 0, c), ""},
		{"M", bc.Gemm(T, N, 1, a, b, 0, c), "op(A) has 4 rows, C has 6 (M)"},
		{"N", bc.Gemm(N, T, 1, a, mk(3, 4, 2, 2), 0, c), "op(B) has 3 columns, C has 5 (N)"},
		{"K", bc.Gemm(N, N, 1, a, mk(3, 5, 2, 2), 0, c), "op(A) has 4 columns, op(B) has 3 rows (K)"},
		{"MB", bc.Gemm(N, N, 1, mk(6, 4, 3, 2), b, 0, c), "row block size must be C's MB 2"},
		{"NB", bc.Gemm(N, N, 1, a, mk(4, 5, 2, 3), 0, c), "column block size must be C's NB 2"},
		{"KB", bc.Gemm(N, N, 1, mk(6, 4, 2, 1), b, 0, c), "inner block sizes of op(A) (1) and op(B) (2)"},
		{"trans", bc.Gemm('X', N, 1, a, b, 0, c), "transA: unknown transpose"},
		{"alias", bc.Gemm(N, N, 1, c, mk(5, 5, 2, 2), 0, c), "C must not be A or B"},
		{"nil", bc.Gemm(N, N, 1, nil, b, 0, c), "nil matrix"},
		{"2.5D on 2D", bc.Gemm25D(N, N, 1, a, b, 0, c), "Cyclic3D"},
	}
	for _, c := range checks {
		if c.want == "" {
			if c.err != nil {
				return fmt.Errorf("%s: unexpected error %v", c.name, c.err)
			}
			continue
		}
		if c.err == nil {
			return fmt.Errorf("%s: no error", c.name)
		}
		if !strings.Contains(c.err.Error(), c.want) {
			return fmt.Errorf("%s: error %q does not name %q", c.name, c.err, c.want)
		}
	}
	return rt.Wait()
}
