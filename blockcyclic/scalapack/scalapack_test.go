//go:build scalapack && cgo && !mpich

package scalapack_test

// Run with
//
//	go test -tags scalapack ./blockcyclic/scalapack
//
// (mpitest runs it at 1, 2, 3 and 4 ranks.) Every rank builds its local
// pieces from global formulas, calls the ScaLAPACK driver, and checks its
// own local entries against the same computation done serially on the
// whole matrix with package kernels, so no gather is needed and every rank
// makes the same collective calls whatever it finds.

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/mpi"
)

const eps = 0x1p-52

// gridShapes returns the grids to test at this world size: every P x Q with
// P Q = size in both orders, and a grid that leaves the last rank out.
func gridShapes(size int) (out []struct {
	p, q  int
	order blockcyclic.Order
}) {
	add := func(p, q int, o blockcyclic.Order) {
		out = append(out, struct {
			p, q  int
			order blockcyclic.Order
		}{p, q, o})
	}
	for p := 1; p <= size; p++ {
		if size%p == 0 {
			add(p, size/p, blockcyclic.RowMajor)
			if p != 1 && p != size {
				add(p, size/p, blockcyclic.ColMajor)
			}
		}
	}
	if size > 1 {
		add(size-1, 1, blockcyclic.ColMajor)
	}
	return out
}

// forGrids runs f on each grid on a fresh duplicate of the world, on the
// processes in the grid.
func forGrids(t *testing.T, f func(t *testing.T, g *scalapack.Grid)) {
	comm, err := mpi.World().Dup()
	if err != nil {
		t.Fatal(err)
	}
	defer comm.Free()
	for _, s := range gridShapes(comm.Size()) {
		name := fmt.Sprintf("%dx%d-%v", s.p, s.q, s.order)
		g, err := scalapack.NewGrid(comm, s.p, s.q, s.order)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(name, func(t *testing.T) {
			if g.InGrid() {
				f(t, g)
			}
		})
		if err := g.Exit(); err != nil {
			t.Errorf("%s: Exit: %v", name, err)
		}
	}
}

// distributed is this process's part of an m x n matrix in mb x nb blocks,
// first block on process (0, 0).
type distributed struct {
	g     *scalapack.Grid
	desc  blockcyclic.Desc
	rows  int // local rows (LLD_ is rows, at least 1)
	cols  int
	local []float64
}

func distribute(t *testing.T, g *scalapack.Grid, m, n, mb, nb int, at func(i, j int) float64) *distributed {
	t.Helper()
	rows, cols := g.LocalShape(m, n, mb, nb, 0, 0)
	desc, err := g.Desc(m, n, mb, nb, 0, 0, max(1, rows))
	if err != nil {
		t.Fatal(err)
	}
	d := &distributed{g, desc, rows, cols, make([]float64, max(1, rows)*cols)}
	d.each(func(li, lj, gi, gj int) { d.local[li+lj*max(1, rows)] = at(gi, gj) })
	return d
}

// each calls f for every local entry with its local and global (0-based)
// indices.
func (d *distributed) each(f func(li, lj, gi, gj int)) {
	info := d.g.Info()
	for lj := 0; lj < d.cols; lj++ {
		gj := blockcyclic.Indxl2g(lj, d.desc[blockcyclic.NB_], info.MyCol, 0, info.NPcol)
		for li := 0; li < d.rows; li++ {
			gi := blockcyclic.Indxl2g(li, d.desc[blockcyclic.MB_], info.MyRow, 0, info.NProw)
			f(li, lj, gi, gj)
		}
	}
}

func (d *distributed) at(li, lj int) float64 { return d.local[li+lj*max(1, d.rows)] }

// spd is a symmetric, strictly diagonally dominant (so positive definite and
// well conditioned: cond ≤ 3) matrix of order n.
func spd(n int) func(i, j int) float64 {
	return func(i, j int) float64 {
		if i == j {
			return 2 * float64(n)
		}
		return math.Sin(0.37*float64(i+1)*float64(j+1)) + 0.5
	}
}

// general is a non-symmetric matrix; with dominant diagonal (when square)
// it is well conditioned too.
func general(i, j int) float64 {
	v := math.Cos(0.29*float64(i+1) + 0.61*float64(j+1)*float64(j%3+1))
	if i == j {
		v += 60
	}
	return v
}

// colMajor evaluates at on a whole m x n matrix, column-major.
func colMajor(m, n int, at func(i, j int) float64) []float64 {
	a := make([]float64, m*n)
	for j := 0; j < n; j++ {
		for i := 0; i < m; i++ {
			a[i+j*m] = at(i, j)
		}
	}
	return a
}

var cases = []struct{ n, nb int }{{1, 1}, {8, 16}, {37, 5}, {64, 8}}

func TestPdpotrfPdpotrs(t *testing.T) {
	forGrids(t, func(t *testing.T, g *scalapack.Grid) {
		for _, c := range cases {
			n := c.n
			for _, ul := range []blas.Uplo{blas.Lower, blas.Upper} {
				what := fmt.Sprintf("n=%d nb=%d uplo=%c", n, c.nb, ul)
				a := distribute(t, g, n, n, c.nb, c.nb, spd(n))
				info, err := scalapack.Pdpotrf(ul, n, a.local, 1, 1, a.desc)
				if err != nil || info != 0 {
					t.Errorf("%s: PDPOTRF info %d, err %v", what, info, err)
					continue
				}
				// The serial factor of the same matrix, by package kernels.
				ref := colMajor(n, n, spd(n))
				if err := kernels.Potrf(ul, n, ref, n); err != nil {
					t.Fatal(err)
				}
				// Tolerance: both factors are backward stable (||ΔA|| ≤ c n ε ||A||,
				// Higham Thm 10.3) and cond(A) ≤ 3, so their entries agree to a
				// small multiple of n ε sqrt(max |A|) = n ε sqrt(2n).
				tol := 16 * float64(n) * eps * math.Sqrt(2*float64(n))
				bad := 0
				a.each(func(li, lj, gi, gj int) {
					if (ul == blas.Lower && gi < gj) || (ul == blas.Upper && gi > gj) {
						if a.at(li, lj) != spd(n)(gi, gj) && bad == 0 {
							bad++
							t.Errorf("%s: entry (%d, %d) outside the triangle changed", what, gi, gj)
						}
						return
					}
					if d := math.Abs(a.at(li, lj) - ref[gi+gj*n]); !(d <= tol) && bad == 0 {
						bad++
						t.Errorf("%s: factor entry (%d, %d) = %v, serial %v (|diff| %.3g > %.3g)",
							what, gi, gj, a.at(li, lj), ref[gi+gj*n], d, tol)
					}
				})

				// PDPOTRS with 3 right-hand sides B = A X, X known.
				const nrhs = 3
				x := func(i, j int) float64 { return float64(i+1) - 0.5*float64(j) }
				b := distribute(t, g, n, nrhs, c.nb, c.nb, func(i, j int) float64 {
					s := 0.0
					for l := 0; l < n; l++ {
						s += spd(n)(i, l) * x(l, j)
					}
					return s
				})
				info, err = scalapack.Pdpotrs(ul, n, nrhs, a.local, 1, 1, a.desc, b.local, 1, 1, b.desc)
				if err != nil || info != 0 {
					t.Errorf("%s: PDPOTRS info %d, err %v", what, info, err)
					continue
				}
				// cond(A) ≤ 3 and |X| ≤ n: forward error a small multiple of n ε n.
				tol = 16 * float64(n) * eps * float64(n+1)
				bad = 0
				b.each(func(li, lj, gi, gj int) {
					if d := math.Abs(b.at(li, lj) - x(gi, gj)); !(d <= tol) && bad == 0 {
						bad++
						t.Errorf("%s: PDPOTRS X(%d, %d) = %v, want %v", what, gi, gj, b.at(li, lj), x(gi, gj))
					}
				})
			}
		}
	})
}

// TestPdpotrfNotPositiveDefinite: every process gets LAPACK's INFO, the
// 1-based column of the first non-positive pivot.
func TestPdpotrfNotPositiveDefinite(t *testing.T) {
	forGrids(t, func(t *testing.T, g *scalapack.Grid) {
		for _, nc := range [][2]int{{37, 1}, {37, 12}, {37, 37}} {
			n, col := nc[0], nc[1]
			broken := func(i, j int) float64 {
				if i == col-1 && j == col-1 {
					return -float64(n * n)
				}
				return spd(n)(i, j)
			}
			a := distribute(t, g, n, n, 5, 5, broken)
			info, err := scalapack.Pdpotrf(blas.Lower, n, a.local, 1, 1, a.desc)
			if err != nil || info != col {
				t.Errorf("n=%d broken at %d: PDPOTRF info %d, err %v; want info %d", n, col, info, err, col)
			}
		}
	})
}

func TestPdgemm(t *testing.T) {
	forGrids(t, func(t *testing.T, g *scalapack.Grid) {
		for _, s := range [][4]int{{1, 1, 1, 1}, {23, 17, 11, 4}, {9, 30, 40, 8}} {
			m, n, k, nb := s[0], s[1], s[2], s[3]
			for _, ta := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				for _, tb := range []blas.Transpose{blas.NoTrans, blas.Trans} {
					what := fmt.Sprintf("m=%d n=%d k=%d nb=%d %c%c", m, n, k, nb, ta, tb)
					ar, ac := m, k
					if ta == blas.Trans {
						ar, ac = k, m
					}
					br, bc := k, n
					if tb == blas.Trans {
						br, bc = n, k
					}
					fa := func(i, j int) float64 { return math.Sin(float64(3*i+j) + 0.5) }
					fb := func(i, j int) float64 { return math.Cos(float64(i-2*j) * 0.7) }
					a := distribute(t, g, ar, ac, nb, nb, fa)
					b := distribute(t, g, br, bc, nb, nb, fb)
					c := distribute(t, g, m, n, nb, nb, general)
					const alpha, beta = 1.5, -0.5
					if err := scalapack.Pdgemm(ta, tb, m, n, k, alpha, a.local, 1, 1, a.desc,
						b.local, 1, 1, b.desc, beta, c.local, 1, 1, c.desc); err != nil {
						t.Errorf("%s: %v", what, err)
						continue
					}
					ref := colMajor(m, n, general)
					kernels.Gemm(ta, tb, m, n, k, alpha, colMajor(ar, ac, fa), max(1, ar), colMajor(br, bc, fb), max(1, br), beta, ref, m)
					// Sums of k products of entries ≤ 1 in another order: k ε
					// times the sum of |terms| (≤ 1.5 k + 0.5 |C|).
					tol := 8 * float64(k+1) * eps * (1.5*float64(k) + 32)
					bad := 0
					c.each(func(li, lj, gi, gj int) {
						if d := math.Abs(c.at(li, lj) - ref[gi+gj*m]); !(d <= tol) && bad == 0 {
							bad++
							t.Errorf("%s: C(%d, %d) = %v, serial %v", what, gi, gj, c.at(li, lj), ref[gi+gj*m])
						}
					})
				}
			}
		}
	})
}

func TestPdgetrfPdgetrs(t *testing.T) {
	forGrids(t, func(t *testing.T, g *scalapack.Grid) {
		for _, c := range cases {
			n, nb := c.n, c.nb
			what := fmt.Sprintf("n=%d nb=%d", n, nb)
			a := distribute(t, g, n, n, nb, nb, general)
			ipiv := make([]int32, a.rows+nb)
			info, err := scalapack.Pdgetrf(n, n, a.local, 1, 1, a.desc, ipiv)
			if err != nil || info != 0 {
				t.Errorf("%s: PDGETRF info %d, err %v", what, info, err)
				continue
			}
			const nrhs = 2
			x := func(i, j int) float64 { return 1 + float64(i%7) - float64(j) }
			b := distribute(t, g, n, nrhs, nb, nb, func(i, j int) float64 {
				s := 0.0
				for l := 0; l < n; l++ {
					s += general(i, l) * x(l, j)
				}
				return s
			})
			info, err = scalapack.Pdgetrs(blas.NoTrans, n, nrhs, a.local, 1, 1, a.desc, ipiv, b.local, 1, 1, b.desc)
			if err != nil || info != 0 {
				t.Errorf("%s: PDGETRS info %d, err %v", what, info, err)
				continue
			}
			// The diagonal (≥ 59) dominates rows of n entries ≤ 1 for n ≤ 64:
			// cond ≤ 60/(59 - n/…) stays small; |X| ≤ 8.
			tol := 64 * float64(n) * eps * 8
			bad := 0
			b.each(func(li, lj, gi, gj int) {
				if d := math.Abs(b.at(li, lj) - x(gi, gj)); !(d <= tol) && bad == 0 {
					bad++
					t.Errorf("%s: PDGETRS X(%d, %d) = %v, want %v", what, gi, gj, b.at(li, lj), x(gi, gj))
				}
			})
		}
	})
}

// TestPdgeqrf checks R against the Cholesky factor of AᵀA: R = D chol(AᵀA)
// with D = diag(±1), so |R(i, j)| = |U(i, j)| entry by entry.
func TestPdgeqrf(t *testing.T) {
	forGrids(t, func(t *testing.T, g *scalapack.Grid) {
		for _, s := range [][3]int{{1, 1, 1}, {30, 17, 4}, {40, 40, 8}} {
			m, n, nb := s[0], s[1], s[2]
			what := fmt.Sprintf("m=%d n=%d nb=%d", m, n, nb)
			a := distribute(t, g, m, n, nb, nb, general)
			tau := make([]float64, max(1, a.cols))
			info, err := scalapack.Pdgeqrf(m, n, a.local, 1, 1, a.desc, tau)
			if err != nil || info != 0 {
				t.Errorf("%s: PDGEQRF info %d, err %v", what, info, err)
				continue
			}
			full := colMajor(m, n, general)
			ata := make([]float64, n*n)
			kernels.Syrk(blas.Upper, blas.Trans, n, m, 1, full, m, 0, ata, n)
			if err := kernels.Potrf(blas.Upper, n, ata, n); err != nil {
				t.Fatal(err)
			}
			// R's entries are ≤ ||A|| ≈ 60 + sqrt(m); going through AᵀA
			// squares the condition number (≤ 2 here), so agreement to
			// m ε ||A|| times a small constant.
			tol := 64 * float64(m) * eps * 70
			bad := 0
			a.each(func(li, lj, gi, gj int) {
				if gi > gj {
					return
				}
				if d := math.Abs(math.Abs(a.at(li, lj)) - math.Abs(ata[gi+gj*n])); !(d <= tol) && bad == 0 {
					bad++
					t.Errorf("%s: |R(%d, %d)| = %v, |chol(AᵀA)| %v", what, gi, gj, math.Abs(a.at(li, lj)), math.Abs(ata[gi+gj*n]))
				}
			})
		}
	})
}

func TestNewGridErrors(t *testing.T) {
	size := mpi.World().Size()
	if _, err := scalapack.NewGrid(mpi.World(), size+1, 1, blockcyclic.RowMajor); err == nil {
		t.Errorf("a %d x 1 grid on %d processes: no error", size+1, size)
	}
	if _, err := scalapack.NewGrid(mpi.World(), 1, 1, blockcyclic.Order(7)); err == nil {
		t.Error("grid order 7: no error")
	}
}
