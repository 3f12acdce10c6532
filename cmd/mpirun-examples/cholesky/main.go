// Command cholesky is the main spmd demo: a distributed Cholesky
// factorization (blockcyclic.Potrf) of an N x N symmetric positive definite
// matrix, 2D block-cyclic over a P x Q grid, run as a task graph by the dagmpi
// runtime. It prints the rate, the scaled residual ||A - L Lᵀ|| / (n ||A|| eps),
// the time split and the DGEMM yardstick; with -scalapack (build with -tags
// scalapack) it also runs ScaLAPACK's PDPOTRF on the same matrix and
// distribution in the same job and prints the ratio.
//
//	go build -tags scalapack -o bin/cholesky ./cmd/mpirun-examples/cholesky
//	scripts/mpirun.sh -np 2 bin/cholesky -n 8192 -nb 384 -scalapack -scalapack-nb 128
//
// -dist sbc factors the matrix on the symmetric block-cyclic distribution
// (blockcyclic.SBC over all the ranks: 1, 2, 3, 6, 8, 10, ... ranks) instead
// of the P x Q grid; -dist both runs SBC first, then the grid, in the same
// job, and reports the bytes each sent (JSON extra: sbc_*):
//
//	scripts/mpirun.sh -np 3 bin/cholesky -n 4096 -dist both -json
//
// -lapack also times LAPACK's DPOTRF (OpenBLAS, one thread) on a whole
// N x N copy of the matrix on every rank at once, with no communication and
// no distribution: the rate the job's cores reach with the same kernels when
// each factors a matrix of its own (JSON extra: lapack_*). It bounds what a
// distributed factorization on those cores can expect: each rank holds and
// factors N x N, so it needs 8 N² bytes more per rank (16 N² with -check,
// whose residual regenerates A).
//
// The matrix is generated in place, tile by tile, from a hash of (i, j):
// a symmetric matrix with entries in [-0.5, 0.5) plus N on the diagonal.
package main

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"

	"flag"
	"github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/lademo"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/mpi"
)

var (
	upper  = flag.Bool("upper", false, "factor the upper triangle (A = Uᵀ U) instead of the lower (A = L Lᵀ)")
	lapack = flag.Bool("lapack", false, "also time LAPACK DPOTRF (OpenBLAS, one thread) on a whole N x N copy on every rank at once, no communication: the cores' own Cholesky rate (JSON extra: lapack_*)")
	dist   = flag.String("dist", "cyclic2d", "distribution of A: cyclic2d (the P x Q grid), sbc (symmetric block-cyclic over all ranks) or both (SBC, then the grid, bytes sent side by side)")
)

func main() {
	lademo.Main("potrf", 4096, 384, run)
}

// element is the test matrix: symmetric, entries in [-0.5, 0.5), plus n on
// the diagonal, so it is strictly diagonally dominant, hence SPD.
func element(n int) func(i, j int) float64 {
	return func(i, j int) float64 {
		if i > j {
			i, j = j, i
		}
		x := uint64(i)*0x9E3779B97F4A7C15 ^ uint64(j)*0xC2B2AE3D27D4EB4F
		x ^= x >> 31
		x *= 0xBF58476D1CE4E5B9
		x ^= x >> 29
		v := float64(x>>11)/float64(1<<53) - 0.5
		if i == j {
			v += float64(n)
		}
		return v
	}
}

func run(e *lademo.Env) (*lademo.Result, error) {
	f := e.Flags
	n, nb := f.N, f.NB
	uplo := blas.Lower
	if *upper {
		uplo = blas.Upper
	}
	gen := element(n)
	if *dist != "cyclic2d" && *dist != "sbc" && *dist != "both" {
		return nil, fmt.Errorf("-dist %q: want cyclic2d, sbc or both", *dist)
	}
	res := &lademo.Result{Routine: "potrf", Flops: float64(n) * float64(n) * float64(n) / 3}
	extra := map[string]any{"uplo": uploName(uplo), "dist": *dist}
	var sbcLine string
	if *dist != "cyclic2d" {
		d, err := blockcyclic.SBCForRanks(e.Size)
		if err != nil {
			return nil, fmt.Errorf("-dist %s: %w", *dist, err)
		}
		secs, r, err := factor(e, uplo, d, gen)
		if err != nil {
			return nil, err
		}
		if *dist == "sbc" {
			res.Seconds, res.Residual, res.Checked = secs, r, f.Check
			extra["sbc_r"], extra["sbc_extended"] = d.R(), d.Extended()
		} else {
			sp := e.LastSplit()
			extra["sbc_r"], extra["sbc_extended"] = d.R(), d.Extended()
			extra["sbc_seconds"], extra["sbc_gflops"] = secs, res.Flops/secs/1e9
			extra["sbc_bytes_sent"], extra["sbc_bytes_sent_max_rank"] = sp.BytesSent, sp.BytesSentMaxRank
			if f.Check {
				extra["sbc_residual"] = r
			}
			variant := "basic"
			if d.Extended() {
				variant = "extended"
			}
			sbcLine = fmt.Sprintf("SBC (%s, r=%d): %.3f s  %.1f GFLOP/s  residual %.3g; bytes sent %d (all ranks), %d (busiest rank)",
				variant, d.R(), secs, res.Flops/secs/1e9, r, sp.BytesSent, sp.BytesSentMaxRank)
		}
	}
	if *dist != "sbc" {
		secs, r, err := factor(e, uplo, e.Dist, gen)
		if err != nil {
			return nil, err
		}
		res.Seconds, res.Residual, res.Checked = secs, r, f.Check
	}
	if sbcLine != "" && e.Rank == 0 && !f.JSON {
		sp := e.LastSplit()
		p, q := e.Dist.Grid()
		fmt.Println(sbcLine)
		fmt.Printf("2D %d x %d: bytes sent %d (all ranks), %d (busiest rank); SBC / 2D = %.2f\n",
			p, q, sp.BytesSent, sp.BytesSentMaxRank, float64(extra["sbc_bytes_sent"].(int64))/float64(max(sp.BytesSent, 1)))
	}
	if f.ScaLAPACK {
		snb := f.ScaNB
		if snb == 0 {
			snb = nb
		}
		secs, r, err := runScaLAPACK(e, uplo, n, snb, gen)
		if err != nil {
			return nil, err
		}
		res.ScaLAPACKSeconds, res.ScaLAPACKNB, res.ScaLAPACKResid = secs, snb, r
	}
	if *lapack {
		secs, r, err := runLAPACK(e, uplo, n, gen)
		if err != nil {
			return nil, err
		}
		rate := float64(e.Size) * res.Flops / secs / 1e9
		extra["lapack_seconds"], extra["lapack_gflops"] = secs, rate
		extra["ratio_to_lapack"] = res.Flops / res.Seconds / 1e9 / rate
		if f.Check {
			extra["lapack_residual"] = r
		}
		res.Notes = append(res.Notes, fmt.Sprintf("LAPACK DPOTRF, one thread, an N x N copy on each of the %d ranks at once: %.3f s (slowest)  %.1f GFLOP/s all ranks; spmd / LAPACK = %.2f",
			e.Size, secs, rate, extra["ratio_to_lapack"]))
	}
	res.Extra = extra
	return res, nil
}

// runLAPACK factors a whole n x n copy of the matrix with kernels.Potrf
// (OpenBLAS's DPOTRF, one thread) on every rank at once and returns the
// slowest rank's time and, with -check, the largest scaled residual
// ||A - L Lᵀ||_F / (n ||A||_F eps) over the ranks (NaN without).
func runLAPACK(e *lademo.Env, uplo blas.Uplo, n int, gen func(i, j int) float64) (float64, float64, error) {
	fill := func(a []float64) {
		for j := 0; j < n; j++ {
			for i := 0; i < n; i++ {
				a[i+j*n] = gen(i, j)
			}
		}
	}
	a := make([]float64, n*n)
	fill(a)
	if err := e.Barrier(); err != nil {
		return 0, 0, err
	}
	t0 := mpi.Wtime()
	ferr := kernels.Potrf(uplo, n, a, max(n, 1))
	dt := mpi.Wtime() - t0
	if ferr != nil {
		dt = math.Inf(1) // every rank joins the reduction, then fails
	}
	secs, err := e.MaxFloat(dt)
	if err != nil {
		return 0, 0, err
	}
	if ferr != nil {
		return 0, 0, fmt.Errorf("LAPACK DPOTRF on rank %d: %w", e.Rank, ferr)
	}
	if math.IsInf(secs, 1) {
		return 0, 0, fmt.Errorf("LAPACK DPOTRF failed on another rank")
	}
	r := math.NaN()
	if e.Flags.Check {
		r = denseResidual(uplo, n, a, fill)
		if r, err = e.MaxFloat(r); err != nil {
			return 0, 0, err
		}
	}
	return secs, r, nil
}

// denseResidual returns ||A - L Lᵀ||_F / (n ||A||_F eps) (or with Uᵀ U) for
// the column-major n x n factor f of the matrix that fill generates,
// computed on the uplo triangle.
func denseResidual(uplo blas.Uplo, n int, f []float64, fill func([]float64)) float64 {
	if n == 0 {
		return 0
	}
	other, trans := blas.Upper, blas.NoTrans
	if uplo == blas.Upper {
		other, trans = blas.Lower, blas.Trans
	}
	if n > 1 {
		if other == blas.Upper {
			kernels.Laset(blas.Upper, n-1, n-1, 0, 0, f[n:], n)
		} else {
			kernels.Laset(blas.Lower, n-1, n-1, 0, 0, f[1:], n)
		}
	}
	a := make([]float64, n*n)
	fill(a)
	na := symNorm2(uplo, n, a)
	kernels.Syrk(uplo, trans, n, n, -1, f, n, 1, a, n)
	nr := symNorm2(uplo, n, a)
	return math.Sqrt(nr) / (float64(n) * math.Sqrt(na) * 0x1p-52)
}

// symNorm2 returns the squared Frobenius norm of the symmetric n x n
// matrix whose uplo triangle column-major a holds.
func symNorm2(uplo blas.Uplo, n int, a []float64) float64 {
	var s float64
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			if w := symWeight(uplo, i, j); w != 0 {
				s += w * a[i+j*n] * a[i+j*n]
			}
		}
	}
	return s
}

// symWeight is how often entry (i, j) of the uplo triangle stands in the
// whole symmetric matrix: 1 on the diagonal, 2 off it, 0 for an entry of
// the other triangle (not stored).
func symWeight(uplo blas.Uplo, i, j int) float64 {
	switch {
	case i == j:
		return 1
	case (uplo == blas.Lower) != (i > j):
		return 0
	}
	return 2
}

// factor generates the matrix on dist, times Potrf on it and returns the
// time and, with -check, the residual (NaN without).
func factor(e *lademo.Env, uplo blas.Uplo, dist blockcyclic.Distribution, gen func(i, j int) float64) (float64, float64, error) {
	n, nb := e.Flags.N, e.Flags.NB
	a, err := blockcyclic.NewMatrixFunc(e.RT, n, n, nb, nb, dist, gen)
	if err != nil {
		return 0, 0, err
	}
	a.MakeLocal() // pruned: make the owned tiles (and their contents) before timing
	if err := e.RT.Wait(); err != nil {
		return 0, 0, err
	}
	secs, err := e.Time(func() error { return blockcyclic.Potrf(uplo, a) })
	if err != nil {
		return 0, 0, err
	}
	r := math.NaN()
	if e.Flags.Check {
		if r, err = residual(e, uplo, a, gen); err != nil {
			return 0, 0, err
		}
		if !(r <= Tol) {
			return 0, 0, fmt.Errorf("Potrf on %s: residual %.3g above the tolerance %d", distName(dist), r, Tol)
		}
	}
	return secs, r, nil
}

// Tol bounds the demo's scaled residual ||A - L Lᵀ||_F / (n ||A||_F eps):
// with -check, a larger one ends the program with an error (exit 1).
const Tol = 30

// distName names a distribution for messages.
func distName(d blockcyclic.Distribution) string {
	if s, ok := d.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", d)
}

func uploName(u blas.Uplo) string {
	if u == blas.Upper {
		return "upper"
	}
	return "lower"
}

// runScaLAPACK factors the same matrix with PDPOTRF, with block size nb,
// on the same grid, and returns the slowest rank's time and the residual.
func runScaLAPACK(e *lademo.Env, uplo blas.Uplo, n, nb int, gen func(i, j int) float64) (float64, float64, error) {
	p, q := e.Dist.Grid()
	g, err := scalapack.NewGrid(e.Comm, p, q, e.Order)
	if err != nil {
		return 0, 0, err
	}
	defer g.Exit()
	a, err := blockcyclic.NewMatrixFunc(e.RT, n, n, nb, nb, e.Dist, gen)
	if err != nil {
		return 0, 0, err
	}
	loc, lld, err := a.Local(nil, 0)
	if err != nil {
		return 0, 0, err
	}
	desc, err := a.Desc(g.Context(), lld)
	if err != nil {
		return 0, 0, err
	}
	if err := e.Barrier(); err != nil {
		return 0, 0, err
	}
	t0 := mpi.Wtime()
	info, perr := scalapack.Pdpotrf(uplo, n, loc, 1, 1, desc)
	dt := mpi.Wtime() - t0
	secs, err := e.MaxFloat(dt)
	if err != nil {
		return 0, 0, err
	}
	if perr != nil {
		return 0, 0, fmt.Errorf("PDPOTRF: INFO = %d: %w", info, perr)
	}
	r := math.NaN()
	if e.Flags.Check {
		if err := a.SetLocal(loc, lld); err != nil {
			return 0, 0, err
		}
		if r, err = residual(e, uplo, a, gen); err != nil {
			return 0, 0, err
		}
	}
	return secs, r, nil
}

// residual returns ||A - L Lᵀ||_F / (n ||A||_F eps) (or with Uᵀ U) for the
// factor in f, computed in place on the ranks: it clears the other triangle
// of f's diagonal tiles, subtracts L Lᵀ from a fresh copy of A with the
// distributed Syrk and sums the squares of the uplo triangle tile by tile.
func residual(e *lademo.Env, uplo blas.Uplo, f *blockcyclic.Matrix, gen func(i, j int) float64) (float64, error) {
	n, _ := f.Dims()
	nb, _ := f.BlockSize()
	nt, _ := f.Tiles()
	rt := e.RT
	other, trans := blas.Upper, blas.NoTrans
	if uplo == blas.Upper {
		other, trans = blas.Lower, blas.Trans
	}
	for j := 0; j < nt; j++ {
		for i := 0; i < nt; i++ {
			if (uplo == blas.Lower && i < j) || (uplo == blas.Upper && i > j) {
				if err := submitClear(rt, f, i, j, blas.All); err != nil {
					return 0, err
				}
			} else if i == j {
				if err := submitClear(rt, f, i, j, other); err != nil {
					return 0, err
				}
			}
		}
	}
	r, err := blockcyclic.NewMatrixFunc(rt, n, n, nb, nb, f.Dist(), gen)
	if err != nil {
		return 0, err
	}
	if err := blockcyclic.Syrk(uplo, trans, -1, f, 1, r); err != nil {
		return 0, err
	}
	var sums lademo.Sums
	for j := 0; j < nt; j++ {
		for i := 0; i < nt; i++ {
			if (uplo == blas.Lower && i < j) || (uplo == blas.Upper && i > j) {
				continue
			}
			t := r.Tile(i, j)
			rows, cols := r.TileDims(i, j)
			i0, j0 := i*nb, j*nb
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				b := t.Buf(tk)
				var lr, la float64
				for c := 0; c < cols; c++ {
					for x := 0; x < rows; x++ {
						gi, gj := i0+x, j0+c
						w := symWeight(uplo, gi, gj)
						if w == 0 {
							continue
						}
						v := b[x+c*rows]
						lr += w * v * v
						av := gen(gi, gj)
						la += w * av * av
					}
				}
				sums.Add(lr, la)
				return nil
			}, t.Read(), dagmpi.Name("norm")); err != nil {
				return 0, err
			}
		}
	}
	sr, sa, err := e.Total(&sums)
	if err != nil {
		return 0, err
	}
	return math.Sqrt(sr) / (float64(n) * math.Sqrt(sa) * 0x1p-52), nil
}

// submitClear zeroes tile (i, j) of f (part blas.All), or the strict part
// (blas.Upper or blas.Lower) of a diagonal tile.
func submitClear(rt *dagmpi.Runtime, f *blockcyclic.Matrix, i, j int, part blas.Uplo) error {
	t := f.Tile(i, j)
	rows, cols := f.TileDims(i, j)
	return rt.Submit(func(tk *dagmpi.Task) error {
		b := t.Buf(tk)
		switch {
		case part == blas.All:
			kernels.Laset(blas.All, rows, cols, 0, 0, b, max(rows, 1))
		case rows < 2:
		case part == blas.Upper:
			kernels.Laset(blas.Upper, rows-1, rows-1, 0, 0, b[rows:], rows)
		default:
			kernels.Laset(blas.Lower, rows-1, rows-1, 0, 0, b[1:], rows)
		}
		return nil
	}, t.ReadWrite(), dagmpi.Name("clear"))
}
