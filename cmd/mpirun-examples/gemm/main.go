// Command gemm is the distributed GEMM demo: C = alpha A B + beta C on n x n
// matrices of nb x nb tiles, generated in place on a P x Q block-cyclic grid
// (or P x Q x R for the 2.5D algorithm), computed as a task graph of the
// dagmpi runtime (blockcyclic.Gemm, SUMMA; or blockcyclic.Gemm25D). It
// prints the rate, a scaled residual, the time split and, with -scalapack
// (build with -tags scalapack), ScaLAPACK's PDGEMM on the same matrices and
// distribution in the same job.
//
//	scripts/mpirun.sh -np 2 ./gemm -n 8192 -nb 384 -p 1 -q 2 [-scalapack] [-json]
//	scripts/mpirun.sh -np 4 ./gemm -n 4096 -algo 2.5d -p 1 -q 2 -r 2
//
// The residual is checked without gathering: with a fixed vector x,
// ||C x - alpha A (B x) - beta C0 x|| / ((|alpha| ||A|| ||B|| + |beta| ||C0||) ||x|| n eps)
// (Frobenius norms, matrix-vector products summed over the ranks' tiles).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"time"

	"gonum.org/v1/gonum/blas"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/kernels"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/mpi"
)

// Tol bounds the demo's scaled residual.
const Tol = 10

const eps = 0x1p-53

func main() {
	if err := kernels.SelectCore(); err != nil {
		fmt.Fprintln(os.Stderr, "gemm:", err)
		os.Exit(1)
	}
	n := flag.Int("n", 4096, "matrix size (A, B and C are n x n)")
	nb := flag.Int("nb", 384, "tile size (nb x nb tiles, ScaLAPACK's MB = NB)")
	p := flag.Int("p", 0, "process rows (0: 1)")
	q := flag.Int("q", 0, "process columns (0: ranks / (p r))")
	r := flag.Int("r", 1, "layers of the 2.5D grid (-algo 2.5d)")
	algo := flag.String("algo", "summa", "algorithm: summa or 2.5d")
	transport := flag.String("transport", "p2p", "dagmpi transport: p2p (auto picks p2p)")
	trace := flag.String("trace", "", "write a Chrome trace of the GEMM to FILE (FILE.RANK with several ranks)")
	asJSON := flag.Bool("json", false, "print one JSON object on rank 0")
	withScaLAPACK := flag.Bool("scalapack", false, "also run ScaLAPACK PDGEMM on the same matrices and distribution")
	workers := flag.Int("workers", 0, "task workers per rank (0: cores / ranks, at least 1)")
	dgemmTime := flag.Duration("dgemm-time", time.Second, "time to measure the DGEMM yardstick (0 skips it)")
	flag.Parse()

	if err := mpi.Init(); err != nil {
		fmt.Fprintln(os.Stderr, "gemm:", err)
		os.Exit(1)
	}
	w := mpi.World()
	me, size := w.Rank(), w.Size()
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf("gemm: rank %d: "+format, append([]any{me}, args...)...)
		fmt.Fprintln(os.Stderr, msg)
		if size == 1 {
			os.Exit(1)
		}
		mpi.Abort(w, 1, msg)
	}
	switch *transport {
	case "p2p", "auto":
	default:
		fail("transport %q is not available (use p2p or auto)", *transport)
	}
	if *algo != "summa" && *algo != "2.5d" {
		fail("-algo %q: use summa or 2.5d", *algo)
	}
	if *algo == "summa" && *r != 1 {
		fail("-r %d needs -algo 2.5d", *r)
	}
	if *withScaLAPACK && !scalapack.Available {
		fail("-scalapack: built without -tags scalapack")
	}
	if *withScaLAPACK && *algo != "summa" {
		fail("-scalapack compares with PDGEMM on a 2D grid: use -algo summa")
	}
	P, Q, R := *p, *q, *r
	if P == 0 {
		P = 1
	}
	if R < 1 {
		fail("-r %d: layers must be at least 1", R)
	}
	if Q == 0 {
		Q = size / (P * R)
	}
	if P < 1 || Q < 1 || P*Q*R != size {
		fail("grid %d x %d x %d does not match %d ranks", P, Q, R, size)
	}
	if *n < 1 || *nb < 1 {
		fail("-n %d -nb %d must be positive", *n, *nb)
	}
	nw := *workers
	if nw == 0 {
		nw = max(1, runtime.NumCPU()/size)
	}

	// The DGEMM yardstick: every rank at once, summed.
	var dgemm float64
	if *dgemmTime > 0 {
		mpi.Barrier(w)
		rate := []float64{kernels.MeasureDGEMM(2048, *dgemmTime)}
		sum := []float64{0}
		if err := mpi.Allreduce(w, rate, sum, mpi.Sum); err != nil {
			fail("allreduce: %v", err)
		}
		dgemm = sum[0]
	}

	opts := []dagmpi.Option{dagmpi.WithWorkers(nw)}
	var tr *dagmpi.ChromeTrace
	if *trace != "" {
		tr = dagmpi.NewChromeTrace()
		opts = append(opts, dagmpi.WithObserver(tr))
	}
	rt, err := p2p.NewRuntime(w, opts...)
	if err != nil {
		fail("%v", err)
	}
	var dist bc.Distribution
	g2, err := bc.NewCyclic2D(P, Q, bc.RowMajor, 0, 0)
	if err != nil {
		fail("%v", err)
	}
	dist = g2
	if *algo == "2.5d" {
		g3, err := bc.NewCyclic3D(P, Q, R, bc.RowMajor, 0, 0)
		if err != nil {
			fail("%v", err)
		}
		dist = g3
	}
	N, NB := *n, *nb
	const alpha, beta = 1.0, 0.5
	fa := func(i, j int) float64 { return float64((i*7+j*13)%31)/31 - 0.5 }
	fb := func(i, j int) float64 { return float64((i*11+j*5)%29)/29 - 0.5 }
	fc := func(i, j int) float64 { return float64((i*3+j*17)%23)/23 - 0.5 }
	a := must(bc.NewMatrixFunc(rt, N, N, NB, NB, dist, fa))(fail)
	b := must(bc.NewMatrixFunc(rt, N, N, NB, NB, dist, fb))(fail)
	c := must(bc.NewMatrixFunc(rt, N, N, NB, NB, dist, fc))(fail)
	x := make([]float64, N)
	for i := range x {
		x[i] = 1 + float64(i%7)/7
	}
	// Norms and C0 x before the product.
	normA, normB, normC0 := frob(rt, w, a, fail), frob(rt, w, b, fail), frob(rt, w, c, fail)
	c0x := matvec(rt, w, c, x, fail)

	if err := rt.Wait(); err != nil {
		fail("%v", err)
	}
	mpi.Barrier(w)
	st0 := rt.Stats()
	t0 := time.Now()
	call := bc.Gemm
	if *algo == "2.5d" {
		call = bc.Gemm25D
	}
	if err := call(blas.NoTrans, blas.NoTrans, alpha, a, b, beta, c); err != nil {
		fail("%v", err)
	}
	if err := rt.Wait(); err != nil {
		fail("%v", err)
	}
	secs := time.Since(t0).Seconds()
	st1 := rt.Stats()
	flops := 2 * float64(N) * float64(N) * float64(N)
	// Every rank's figures, the slowest time counts.
	red := []float64{secs, float64(st1.BytesSent - st0.BytesSent), (st1.Comm - st0.Comm).Seconds(), (st1.Idle - st0.Idle).Seconds()}
	mx := make([]float64, len(red))
	sm := make([]float64, len(red))
	if err := mpi.Allreduce(w, red, mx, mpi.Max); err != nil {
		fail("%v", err)
	}
	if err := mpi.Allreduce(w, red, sm, mpi.Sum); err != nil {
		fail("%v", err)
	}
	secs = mx[0]
	res := residual(rt, w, a, b, c, x, c0x, alpha, beta, normA, normB, normC0, fail)

	out := map[string]any{
		"routine": "gemm", "algo": *algo, "n": N, "nb": NB, "p": P, "q": Q, "r": R, "ranks": size,
		"workers": nw, "seconds": secs, "gflops": flops / secs / 1e9, "residual": res,
		"kernels": kernels.CoreName(), "dgemm_gflops": dgemm,
		"bytes_sent": int64(sm[1]), "bytes_sent_max": int64(mx[1]),
		"comm_seconds": mx[2], "idle_seconds": sm[3] / float64(size*nw),
		"compute_seconds": secs - sm[3]/float64(size*nw),
	}
	if dgemm > 0 {
		out["dgemm_fraction"] = flops / secs / 1e9 / dgemm
	}
	if tr != nil {
		name := *trace
		if size > 1 {
			name = fmt.Sprintf("%s.%d", name, me)
		}
		f, err := os.Create(name)
		if err == nil {
			_, err = tr.WriteTo(f)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fail("trace: %v", err)
		}
	}

	if *withScaLAPACK {
		ss, sres := runPDGEMM(rt, w, a, b, fc, x, c0x, alpha, beta, normA, normB, normC0, P, Q, fail)
		out["scalapack_seconds"] = ss
		out["scalapack_gflops"] = flops / ss / 1e9
		out["scalapack_residual"] = sres
		out["ratio"] = ss / secs
	}
	if err := rt.Close(); err != nil {
		fail("%v", err)
	}
	bad := !(res <= Tol)
	if s, ok := out["scalapack_residual"].(float64); ok && !(s <= Tol) {
		bad = true
	}
	if me == 0 {
		if *asJSON {
			j, _ := json.Marshal(out)
			fmt.Println(string(j))
		} else {
			fmt.Printf("gemm (%s) n=%d nb=%d grid %dx%dx%d, %d ranks x %d workers, kernels %s\n", *algo, N, NB, P, Q, R, size, nw, kernels.CoreName())
			fmt.Printf("  %.3f s, %.1f GFLOP/s", secs, flops/secs/1e9)
			if dgemm > 0 {
				fmt.Printf(" (%.0f%% of the %d-rank DGEMM rate %.1f GFLOP/s)", 100*flops/secs/1e9/dgemm, size, dgemm)
			}
			fmt.Printf("\n  residual %.3g (tolerance %d)\n", res, Tol)
			fmt.Printf("  time split per rank: compute %.3f s, idle %.3f s (worker means), communication in flight %.3f s (max); %d bytes sent in all\n",
				out["compute_seconds"], out["idle_seconds"], mx[2], int64(sm[1]))
			if *withScaLAPACK {
				fmt.Printf("  ScaLAPACK PDGEMM: %.3f s, %.1f GFLOP/s, residual %.3g; ratio ours/PDGEMM %.3f\n",
					out["scalapack_seconds"], out["scalapack_gflops"], out["scalapack_residual"], out["ratio"])
			}
		}
	}
	if bad {
		fail("residual above the tolerance %d", Tol)
	}
	mpi.Finalize()
}

func must[T any](v T, err error) func(func(string, ...any)) T {
	return func(fail func(string, ...any)) T {
		if err != nil {
			fail("%v", err)
		}
		return v
	}
}

// perTile runs f on every tile this rank owns, as tasks, and waits.
func perTile(rt *dagmpi.Runtime, a *bc.Matrix, f func(i, j int, tile []float64), fail func(string, ...any)) {
	mt, nt := a.Tiles()
	for j := 0; j < nt; j++ {
		for i := 0; i < mt; i++ {
			owner := a.Owner(i, j)
			if owner != rt.Rank() && rt.Pruned() {
				continue
			}
			d := a.Tile(i, j)
			err := rt.Submit(func(t *dagmpi.Task) error {
				f(i, j, d.Buf(t))
				return nil
			}, d.Read(), dagmpi.OnRank(owner), dagmpi.Name("check"))
			if err != nil {
				fail("%v", err)
			}
		}
	}
	if err := rt.Wait(); err != nil {
		fail("%v", err)
	}
}

// frob returns the Frobenius norm of a.
func frob(rt *dagmpi.Runtime, w *mpi.Comm, a *bc.Matrix, fail func(string, ...any)) float64 {
	var mu sync.Mutex
	var s float64
	perTile(rt, a, func(i, j int, tile []float64) {
		var t float64
		for _, v := range tile {
			t += v * v
		}
		mu.Lock()
		s += t
		mu.Unlock()
	}, fail)
	out := []float64{0}
	if err := mpi.Allreduce(w, []float64{s}, out, mpi.Sum); err != nil {
		fail("%v", err)
	}
	return math.Sqrt(out[0])
}

// matvec returns a x on every rank.
func matvec(rt *dagmpi.Runtime, w *mpi.Comm, a *bc.Matrix, x []float64, fail func(string, ...any)) []float64 {
	m, _ := a.Dims()
	mb, nb := a.BlockSize()
	y := make([]float64, m)
	var mu sync.Mutex
	perTile(rt, a, func(i, j int, tile []float64) {
		rows, cols := a.TileDims(i, j)
		part := make([]float64, rows)
		for jj := 0; jj < cols; jj++ {
			xv := x[j*nb+jj]
			col := tile[jj*rows : (jj+1)*rows]
			for ii, v := range col {
				part[ii] += v * xv
			}
		}
		mu.Lock()
		for ii, v := range part {
			y[i*mb+ii] += v
		}
		mu.Unlock()
	}, fail)
	out := make([]float64, m)
	if err := mpi.Allreduce(w, y, out, mpi.Sum); err != nil {
		fail("%v", err)
	}
	return out
}

func residual(rt *dagmpi.Runtime, w *mpi.Comm, a, b, c *bc.Matrix, x, c0x []float64, alpha, beta, na, nb, nc float64, fail func(string, ...any)) float64 {
	cx := matvec(rt, w, c, x, fail)
	abx := matvec(rt, w, a, matvec(rt, w, b, x, fail), fail)
	var num, nx float64
	for i := range cx {
		d := cx[i] - alpha*abx[i] - beta*c0x[i]
		num += d * d
	}
	for _, v := range x {
		nx += v * v
	}
	n, _ := c.Dims()
	return math.Sqrt(num) / ((math.Abs(alpha)*na*nb + math.Abs(beta)*nc) * math.Sqrt(nx) * float64(n) * eps)
}

// runPDGEMM runs ScaLAPACK's PDGEMM on the local arrays of a, b and a fresh
// C0 with the same distribution, and returns its time (slowest rank) and
// residual.
func runPDGEMM(rt *dagmpi.Runtime, w *mpi.Comm, a, b *bc.Matrix, fc func(i, j int) float64, x, c0x []float64,
	alpha, beta, na, nb, nc float64, p, q int, fail func(string, ...any)) (float64, float64) {
	n, _ := a.Dims()
	mbs, nbs := a.BlockSize()
	c, err := bc.NewMatrixFunc(rt, n, n, mbs, nbs, a.Dist(), fc)
	if err != nil {
		fail("%v", err)
	}
	grid, err := scalapack.NewGrid(w, p, q, bc.RowMajor)
	if err != nil {
		fail("%v", err)
	}
	la, llda, err := a.Local(nil, 0)
	if err != nil {
		fail("%v", err)
	}
	lb, lldb, err := b.Local(nil, 0)
	if err != nil {
		fail("%v", err)
	}
	lc, lldc, err := c.Local(nil, 0)
	if err != nil {
		fail("%v", err)
	}
	da, err := a.Desc(grid.Context(), llda)
	if err != nil {
		fail("%v", err)
	}
	db, err := b.Desc(grid.Context(), lldb)
	if err != nil {
		fail("%v", err)
	}
	dc, err := c.Desc(grid.Context(), lldc)
	if err != nil {
		fail("%v", err)
	}
	mpi.Barrier(w)
	t0 := time.Now()
	if err := scalapack.Pdgemm(blas.NoTrans, blas.NoTrans, n, n, n, alpha, la, 1, 1, da, lb, 1, 1, db, beta, lc, 1, 1, dc); err != nil {
		fail("%v", err)
	}
	secs := []float64{time.Since(t0).Seconds()}
	mx := []float64{0}
	if err := mpi.Allreduce(w, secs, mx, mpi.Max); err != nil {
		fail("%v", err)
	}
	if err := grid.Exit(); err != nil {
		fail("%v", err)
	}
	if err := c.SetLocal(lc, lldc); err != nil {
		fail("%v", err)
	}
	return mx[0], residual(rt, w, a, b, c, x, c0x, alpha, beta, na, nb, nc, fail)
}
