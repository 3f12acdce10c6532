//go:build scalapack && cgo && !mpich

package mpirun

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/mat"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/internal/cases"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/mpi"
)

// TestGelsMatchesPDGELS solves the same systems, tall and wide, with both
// trans, on the same grid with Gels and ScaLAPACK's PDGELS (QR for m >= n,
// LQ for m < n), and compares the solutions, which are unique for a full
// rank A: ||X - X_pdgels||_F / (max(m, n) cond ||X_pdgels||_F eps) < 30,
// cond < 10 for these diagonally dominated matrices.
func TestGelsMatchesPDGELS(t *testing.T) {
	w := mpi.World()
	rt, err := p2p.NewRuntime(w)
	if !assert.NoError(t, err) {
		return
	}
	defer rt.Close()
	f := dominant
	rhs := func(i, j int) float64 { return math.Cos(0.91*float64(i+1) + 0.3*float64(j)) }
	const nrhs = 3
	for _, s := range [][3]int{{23, 17, 4}, {9, 14, 3}, {7, 20, 5}, {16, 16, 4}, {1, 6, 4}} {
		m, n, nb := s[0], s[1], s[2]
		rows := max(m, n)
		for gi, g := range cases.Grids(w.Size()) {
			for _, trans := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				q := n // rows of X
				if trans == blas.Trans {
					q = m
				}
				opts := []*bc.QROptions{{IB: 2}, {IB: 3, Tree: bc.FlatTree}, {Algorithm: bc.PanelQR}}[gi%3]
				what := fmt.Sprintf("Gels(%c) %dx%d nb=%d %+v %+v", trans, m, n, nb, g, *opts)
				a, err := bc.NewMatrixFunc(rt, m, n, nb, nb, g, f)
				if !assert.NoError(t, err) {
					return
				}
				b, err := bc.NewMatrixFunc(rt, rows, nrhs, nb, nb, g, rhs)
				if !assert.NoError(t, err) {
					return
				}
				if !assert.NoError(t, bc.Gels(trans, a, b, opts), what) {
					return
				}
				ours, err := b.Gather(0)
				if !assert.NoError(t, err) {
					return
				}
				a2, err := bc.NewMatrixFunc(rt, m, n, nb, nb, g, f)
				if !assert.NoError(t, err) {
					return
				}
				b2, err := bc.NewMatrixFunc(rt, rows, nrhs, nb, nb, g, rhs)
				if !assert.NoError(t, err) {
					return
				}
				la, llda, err := a2.Local(nil, 0)
				if !assert.NoError(t, err) {
					return
				}
				lb, lldb, err := b2.Local(nil, 0)
				if !assert.NoError(t, err) {
					return
				}
				p, qg := g.Grid()
				sg, err := scalapack.NewGrid(w, p, qg, g.Order())
				if !assert.NoError(t, err) {
					return
				}
				if sg.InGrid() {
					da, err := a2.Desc(sg.Context(), llda)
					assert.NoError(t, err)
					db, err := b2.Desc(sg.Context(), lldb)
					assert.NoError(t, err)
					info, err := scalapack.Pdgels(trans, m, n, nrhs, la, 1, 1, da, lb, 1, 1, db)
					assert.NoError(t, err, "%s: PDGELS INFO = %d", what, info)
				}
				assert.NoError(t, sg.Exit())
				if !assert.NoError(t, b2.SetLocal(lb, lldb)) {
					return
				}
				theirs, err := b2.Gather(0)
				if !assert.NoError(t, err) || w.Rank() != 0 {
					continue
				}
				x := ours.Slice(0, q, 0, nrhs)
				xs := theirs.Slice(0, q, 0, nrhs)
				var d mat.Dense
				d.Sub(x, xs)
				res := mat.Norm(&d, 2) / (float64(rows) * 10 * mat.Norm(xs, 2) * 0x1p-52)
				assert.Less(t, res, 30.0, "%s: ||X - X_pdgels|| / (max(m, n) 10 ||X_pdgels|| eps)", what)
			}
		}
	}
}

// TestTranMatchesPDTRAN computes C = beta C + alpha Aᵀ with Tran and with
// PBLAS's PDTRAN on the same grid (C on A's grid, tiles transposed) and
// compares every rank's local array of C.
func TestTranMatchesPDTRAN(t *testing.T) {
	w := mpi.World()
	rt, err := p2p.NewRuntime(w)
	if !assert.NoError(t, err) {
		return
	}
	defer rt.Close()
	c0 := func(i, j int) float64 { return float64(i) - 0.25*float64(j) }
	for _, s := range cases.Shapes {
		for _, g := range cases.Grids(w.Size()) {
			what := fmt.Sprintf("Tran %v on %+v", s, g)
			a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, g, cases.Element)
			if !assert.NoError(t, err) {
				return
			}
			c, err := bc.NewMatrixFunc(rt, s.N, s.M, s.NB, s.MB, g, c0)
			if !assert.NoError(t, err) {
				return
			}
			if !assert.NoError(t, bc.Tran(-0.5, a, 2, c), what) {
				return
			}
			ours, _, err := c.Local(nil, 0)
			if !assert.NoError(t, err) {
				return
			}
			c2, err := bc.NewMatrixFunc(rt, s.N, s.M, s.NB, s.MB, g, c0)
			if !assert.NoError(t, err) {
				return
			}
			la, llda, err := a.Local(nil, 0)
			if !assert.NoError(t, err) {
				return
			}
			theirs, lldc, err := c2.Local(nil, 0)
			if !assert.NoError(t, err) {
				return
			}
			p, q := g.Grid()
			sg, err := scalapack.NewGrid(w, p, q, g.Order())
			if !assert.NoError(t, err) {
				return
			}
			if sg.InGrid() && s.M > 0 && s.N > 0 {
				da, err := a.Desc(sg.Context(), llda)
				assert.NoError(t, err)
				dc, err := c2.Desc(sg.Context(), lldc)
				assert.NoError(t, err)
				assert.NoError(t, scalapack.Pdtran(s.N, s.M, -0.5, la, 1, 1, da, 2, theirs, 1, 1, dc), what)
			}
			assert.NoError(t, sg.Exit())
			if assert.Equal(t, len(theirs), len(ours), what) {
				for i := range ours {
					if d := math.Abs(ours[i] - theirs[i]); !(d <= 4*0x1p-52*(math.Abs(theirs[i])+1e4)) {
						t.Errorf("rank %d: %s: local entry %d = %v, PDTRAN's %v", w.Rank(), what, i, ours[i], theirs[i])
						break
					}
				}
			}
		}
	}
}
