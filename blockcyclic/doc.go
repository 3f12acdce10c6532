// Package blockcyclic describes how dense matrices are laid out over the
// ranks of an MPI job, in the language of ScaLAPACK: 2D block-cyclic
// distributions over a P x Q process grid, the 9-integer array descriptor,
// NUMROC and the global/local/owner index maps; also 1D block, 1D cyclic,
// 2D block, the replicated 3D layout of 2.5D algorithms and the symmetric
// block-cyclic layout (SBC) of symmetric factorizations.
//
// It also holds distributed matrices of tiles (Matrix: scatter, gather,
// redistribution, ScaLAPACK local arrays) and the algorithms on them as task
// graphs of the dagmpi runtime: GEMM (SUMMA, 2.5D), Cholesky
// (POTRF/POTRS/POSV), LU (GETRF with partial, tournament or no pivoting,
// GETRS, GESV), QR (GEQRF as tile or panel QR, ORMQR, GELS for over- and
// underdetermined systems), TRSM on every side, SYRK, TRAN (transpose);
// each checked by scaled residuals against LAPACK.
//
// # Process grid
//
// The ranks of a communicator are arranged in P process rows and Q process
// columns. A rank's place in the grid depends on the grid order: row-major
// (BLACS_GRIDINIT 'R', the default) or column-major ('C'). For P = 2, Q = 3:
//
//	row-major: rank = prow*Q + pcol     column-major: rank = pcol*P + prow
//
//	         pcol 0  pcol 1  pcol 2               pcol 0  pcol 1  pcol 2
//	prow 0 |   0   |   1   |   2   |     prow 0 |   0   |   2   |   4   |
//	prow 1 |   3   |   4   |   5   |     prow 1 |   1   |   3   |   5   |
//
// # Blocks dealt cyclically
//
// An M x N matrix is cut into MB x NB blocks (the last block row and column
// may be partial). Block (i, j) goes to grid coordinates
// ((RSRC + i) mod P, (CSRC + j) mod Q): block rows are dealt to process rows
// like cards, starting at process row RSRC, and block columns to process
// columns, starting at CSRC. With M = 9, N = 14, MB = 2, NB = 3 (5 x 5
// blocks, the last row and column of blocks partial), P = 2, Q = 3,
// RSRC = CSRC = 0, each block is marked with its owner's (prow, pcol):
//
//	      j=0   j=1   j=2   j=3   j=4
//	i=0  (0,0) (0,1) (0,2) (0,0) (0,1)
//	i=1  (1,0) (1,1) (1,2) (1,0) (1,1)
//	i=2  (0,0) (0,1) (0,2) (0,0) (0,1)
//	i=3  (1,0) (1,1) (1,2) (1,0) (1,1)
//	i=4  (0,0) (0,1) (0,2) (0,0) (0,1)
//
// Each process keeps its blocks in the same relative order, as a smaller
// grid of local blocks: global block (i, j) is local block (i / P, j / Q) on
// its owner. Process (0, 1) (rank 1 row-major, rank 2 column-major) holds
//
//	              lj=0          lj=1
//	li=0  | global (0,1) | global (0,4) |
//	li=1  | global (2,1) | global (2,4) |
//	li=2  | global (4,1) | global (4,4) |
//
// Process (0, 1) holds 3 of the 5 block rows (rows 0-1, 4-5, 8: 5 rows,
// Numroc(9, 2, 0, 0, 2) = 5) and 2 of the 5 block columns (columns 3-5 and
// 12-13, the partial last one: Numroc(14, 3, 1, 0, 3) = 5), so its local
// array is 5 x 5, stored column-major with a leading dimension of at least 5.
//
// # Other layouts
//
// Every layout is a Distribution: Owner(i, j) and LocalBlock(i, j) for block
// (i, j), Size() ranks. Besides Cyclic2D:
//
//   - Block1D (NewBlock1D): the n block rows (ByRows) or block columns
//     (ByCols) cut into P contiguous bands of W = ceil(n / P) blocks, band r
//     on rank r, ScaLAPACK-style: the last ranks may get fewer blocks, or
//     none (n = 5, P = 4: bands of 2, 2, 1, 0). Block row k is local block
//     row k mod W; the other dimension is not split. It needs n, and indices
//     along the split dimension must be below n.
//   - Cyclic1D (NewCyclic1D): block row (ByRows) or block column (ByCols) k
//     on rank (src + k) mod P, as local block row (or column) k / P. It is
//     Cyclic2D over a P x 1 (or 1 x P) grid.
//   - Block2D (NewBlock2D): mt x nt blocks over a P x Q grid, block rows cut
//     into P contiguous bands of WR = ceil(mt / P), block columns into Q
//     bands of WC = ceil(nt / Q); block (i, j) on grid coordinates
//     (i / WR, j / WC) as local block (i mod WR, j mod WC). Ranks are
//     numbered on the grid in row- or column-major order, as for Cyclic2D.
//   - Cyclic3D (NewCyclic3D): the layout of 2.5D algorithms over a
//     P x Q x R grid, R layers each holding a full copy of the matrix in the
//     Cyclic2D layout over P x Q. Ranks are numbered layer by layer: the rank
//     at (prow, pcol) of layer l is l*P*Q + Cyclic2D.Rank(prow, pcol), so
//     layer 0 is ranks 0 to P*Q-1. Owner returns the copy on layer 0, Owners
//     all R copies (layer 0 first); LocalBlock is the same on every layer.
//   - SBC (NewSBC, SBCForRanks): the symmetric block-cyclic distribution
//     for symmetric matrices, drawn below.
//
// # Symmetric block-cyclic (SBC)
//
// A Cholesky factorization sends each panel tile L(i, k) to the ranks that
// hold block row i or block column i of the trailing triangle. On a P x Q
// grid that is P + Q - 1 ranks, about 2 sqrt(P Q). SBC (Beaumont,
// Eyraud-Dubois, Langou, Vérité, SC'22) deals the tiles by an r x r
// pattern in which every rank holds two pattern rows and the same two
// pattern columns, its residues {a, b}: tile (i, j) and tile (j, i) have
// the same owner, and a block row and column live on r-1 ranks (basic
// variant, r(r-1)/2 ranks) or r ranks (extended, r²/2 ranks), about
// sqrt(2 P): sqrt(2) fewer bytes for large P.
//
// Basic variant, r = 3, 3 ranks: rank 0 holds residues {0,1}, rank 1 {0,2},
// rank 2 {1,2}. Off-diagonal pattern cell (a, b) belongs to rank {a, b};
// diagonal cell (c, c), marked d_c, rotates among the r-1 ranks holding c:
// in pattern copy (I, J) = (i / r, j / r) it goes to the t-th of them,
// t = max(I, J) mod (r-1). A 7 x 7 tile matrix (copies of the pattern
// marked by the rules):
//
//	pattern        d0 on {0, 1}     owner of tile (i, j)
//	   b=0 b=1 b=2  d1 on {0, 2}          j=0  1  2  3  4  5  6
//	a=0 d0  0   1   d2 on {1, 2}     i=0    0  0  1 |1  0  1 |0
//	a=1 0   d1  2                    i=1    0  0  2 |0  2  2 |0
//	a=2 1   2   d2                   i=2    1  2  1 |1  2  2 |1
//	                                        ---------+--------+--
//	                                 i=3    1  0  1 |1  0  1 |0
//	                                 i=4    0  2  2 |0  2  2 |0
//	                                 i=5    1  2  2 |1  2  2 |1
//	                                        ---------+--------+--
//	                                 i=6    0  0  1 |0  0  1 |0
//
// Every tile of block row and column 4 (residue 1) is on rank 0 or rank 2;
// a 1 x 3 or 3 x 1 grid would spread it over all three. The extended
// variant adds r/2 ranks, rank r(r-1)/2 + c holding the diagonal cells
// (2c, 2c) and (2c+1, 2c+1) of every copy; with r = 2 (2 ranks) rank 0
// holds the tiles with i + j odd, rank 1 those with i + j even. A rank's
// tiles sit on a local grid of its residues' block rows and columns, with
// holes (LocalBlocks gives its bounding size). SBC is not a ScaLAPACK
// layout: Local, SetLocal and Desc need a Cyclic2D.
//
// # Global and local indices
//
// Every function here is 0-based: global row g of the matrix, local row l of
// a process's local array. The two dimensions are independent, so the index
// maps are one-dimensional, applied to rows with (MB, RSRC, P) and to columns
// with (NB, CSRC, Q):
//
//	Numroc(n, nb, iproc, isrc, nprocs)  how many of n indices iproc holds
//	Indxg2p(g, nb, isrc, nprocs)        which process holds global index g
//	Indxg2l(g, nb, nprocs)              g's local index on that process
//	Indxl2g(l, nb, iproc, isrc, nprocs) the global index of local index l on iproc
//
// Relation to ScaLAPACK (Fortran, 1-based indices, 0-based process
// coordinates): Numroc is NUMROC with the same arguments;
// Indxg2p(g, ...) = INDXG2P(g+1, ...); Indxg2l(g, ...) = INDXG2L(g+1, ...) - 1;
// Indxl2g(l, ...) = INDXL2G(l+1, ...) - 1. ScaLAPACK's dummy arguments (IPROC
// of INDXG2P, IPROC and ISRCPROC of INDXG2L) are omitted. Process
// coordinates, counts and descriptor values are identical. The descriptor
// entry constants DTYPE_ ... LLD_ are ScaLAPACK's minus one (Go arrays are
// 0-based); the values stored in a Desc are exactly ScaLAPACK's.
//
// # Local and collective calls
//
// Everything in this package so far is local: pure arithmetic on integers,
// safe for concurrent use, no MPI calls, no thread level required, no
// buffers. A Distribution gives the same answer on every rank, which is how
// ranks agree on owners without communicating.
//
// # Misuse and errors
//
// Invalid arguments to the index maps (block size or process count below
// one, a process coordinate outside the grid, a negative index) are
// programming errors and panic with a constant "blockcyclic: ..." message.
// A descriptor is data that may come from a user, so NewDesc returns a
// *DescError naming the field and ScaLAPACK's INFO instead.
//
// # Testing against ScaLAPACK
//
// The default tests compare the index maps with a brute-force deal of every
// global index. With ScaLAPACK installed (Debian: libscalapack-openmpi-dev),
//
//	go test -tags scalapack ./blockcyclic
//
// also compares them with ScaLAPACK's own NUMROC, INDXG2P, INDXG2L and
// INDXL2G through cgo. Without the tag nothing here needs ScaLAPACK or cgo.
package blockcyclic
