//go:build scalapack && cgo && !mpich

package mpirun

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/internal/cases"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/mpi"
)

// TestGeqrfMatchesPDGEQRF factors the same matrix on the same grid with
// Geqrf (tile QR with both trees, panel QR) and ScaLAPACK's PDGEQRF, and compares R, which is
// unique up to the sign of each row for a full-rank A: |R| must agree entry
// by entry on every rank's local array (ScaLAPACK's layout, from Local).
func TestGeqrfMatchesPDGEQRF(t *testing.T) {
	w := mpi.World()
	rt, err := p2p.NewRuntime(w)
	if !assert.NoError(t, err) {
		return
	}
	defer rt.Close()
	f := dominant
	for _, s := range [][3]int{{23, 17, 4}, {16, 16, 4}, {9, 14, 3}, {30, 7, 5}} {
		m, n, nb := s[0], s[1], s[2]
		for gi, g := range cases.Grids(w.Size()) {
			opts := []*bc.QROptions{{IB: 2}, {IB: 3, Tree: bc.FlatTree}, {Algorithm: bc.PanelQR}}[gi%3]
			what := fmt.Sprintf("%dx%d nb=%d %+v %+v", m, n, nb, g, *opts)
			a, err := bc.NewMatrixFunc(rt, m, n, nb, nb, g, f)
			if !assert.NoError(t, err) {
				return
			}
			if _, err := bc.Geqrf(a, opts); !assert.NoError(t, err, what) {
				return
			}
			ours, _, err := a.Local(nil, 0)
			if !assert.NoError(t, err) {
				return
			}
			b, err := bc.NewMatrixFunc(rt, m, n, nb, nb, g, f)
			if !assert.NoError(t, err) {
				return
			}
			theirs, lld, err := b.Local(nil, 0)
			if !assert.NoError(t, err) {
				return
			}
			p, q := g.Grid()
			sg, err := scalapack.NewGrid(w, p, q, g.Order())
			if !assert.NoError(t, err) {
				return
			}
			if sg.InGrid() {
				desc, err := b.Desc(sg.Context(), lld)
				assert.NoError(t, err)
				_, lc, _ := b.LocalShape()
				tau := make([]float64, max(lc, 1))
				info, err := scalapack.Pdgeqrf(m, n, theirs, 1, 1, desc, tau)
				assert.NoError(t, err, "%s: PDGEQRF INFO = %d", what, info)
				// |R| entries are at most ||A||_F; both are backward stable.
				tol := 30 * float64(m) * 0x1p-52 * 3 * math.Sqrt(float64(n))
				rsrc, csrc := g.Source()
				prow, pcol := g.Coords(w.Rank())
				lr, _, _ := b.LocalShape()
				bad := 0
				for lj := 0; lj < lc; lj++ {
					gj := bc.Indxl2g(lj, nb, pcol, csrc, q)
					for li := 0; li < lr; li++ {
						gi := bc.Indxl2g(li, nb, prow, rsrc, p)
						if gi > gj {
							continue
						}
						x, y := math.Abs(ours[li+lj*lld]), math.Abs(theirs[li+lj*lld])
						if d := math.Abs(x - y); !(d <= tol) && bad == 0 {
							bad++
							t.Errorf("rank %d: %s: |R(%d, %d)| = %v, PDGEQRF's %v (|diff| %.3g > %.3g)", w.Rank(), what, gi, gj, x, y, d, tol)
						}
					}
				}
			}
			assert.NoError(t, sg.Exit())
		}
	}
}

// dominant is a diagonally dominant matrix (entries of the sine pattern in
// [-1/2, 1/2], plus 3 on the diagonal): full rank and well conditioned, for
// comparisons whose answers are unique.
func dominant(i, j int) float64 {
	v := math.Sin(0.37*float64(i+1)*float64(j+2)) / 2
	if i == j {
		v += 3
	}
	return v
}
