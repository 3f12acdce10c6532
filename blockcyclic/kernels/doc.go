// Package kernels holds the tile kernels of package blockcyclic's task
// graphs (GEMM, SYRK, TRSM, TRMM, POTRF and copies) on column-major tiles,
// running on OpenBLAS, and the tools that pick and report OpenBLAS's
// kernels.
//
// # Tiles
//
// A tile is a []float64 holding an r x c matrix in column-major order with
// leading dimension ld ≥ max(1, r): entry (i, j) is a[i+j*ld]; a packed tile
// has ld = r. The kernels take the arguments of the BLAS and LAPACK routines
// they are named after, in the same order, with gonum's blas.Transpose,
// blas.Uplo, blas.Side and blas.Diag for the CHARACTER options, so
// ScaLAPACK's local arrays and LAPACK code read the same way. Misuse
// (negative sizes, a leading dimension or slice too small, bad options)
// panics with a "kernels: ..." or gonum "blas: ..." message; a matrix that
// is not positive definite is a result: Potrf returns a
// *NotPositiveDefiniteError carrying LAPACK's INFO.
//
// # OpenBLAS underneath
//
// With cgo the package links OpenBLAS through pkg-config (openblas), so
// `go build` needs no CGO_LDFLAGS, and importing it makes gonum's blas64
// (and with it gonum's LAPACK) run on gonum.org/v1/netlib/blas/netlib, that
// is on OpenBLAS: its init calls blas64.Use(netlib.Implementation{}).
// gonum's blas64 is row-major; tile.go writes down once how each
// column-major kernel maps onto it (a column-major array read row-major is
// its transpose). Potrf calls OpenBLAS's own DPOTRF, 1.2 to 1.5 times as fast
// as gonum's blocked Dpotrf on the same OpenBLAS calls at nb = 256
// (BenchmarkPotrf).
//
// Without cgo the package builds on gonum's pure-Go BLAS and LAPACK, with
// the same API, about six times slower; CoreName then says so.
//
// # Threads and kernels
//
// Kernels run on the calling goroutine's thread. At start-up the package
// sets OpenBLAS to one thread per call unless OPENBLAS_NUM_THREADS,
// GOTO_NUM_THREADS or OMP_NUM_THREADS says otherwise: the runtime calls
// kernels from one worker per core. Concurrent calls from several
// goroutines are safe.
//
// OpenBLAS chooses its kernel set (Haswell, SkylakeX, ...) when the shared
// library loads, before Go runs, and reads OPENBLAS_CORETYPE only then. On
// CPUs it does not recognise it falls back to older kernels. Programs call
// SelectCore first thing in main, before mpi.Init: it re-executes the
// program with OPENBLAS_CORETYPE=SkylakeX when the CPU has AVX-512 and
// OpenBLAS picked weaker kernels. OPENBLAS_CORETYPE set by the user always
// wins; SPMD_OPENBLAS_CORETYPE=keep disables the choice and
// SPMD_OPENBLAS_CORETYPE=NAME asks for kernel set NAME. CoreName and
// CoreReport say what is in use; MeasureDGEMM gives the DGEMM rate the
// kernels reach, the yardstick for the distributed algorithms.
//
// Nothing here is collective or calls MPI.
package kernels
