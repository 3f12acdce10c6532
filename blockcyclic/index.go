package blockcyclic

// This file holds the one-dimensional index maps of a block-cyclic
// distribution. They are written from the definitions in the ScaLAPACK
// users' guide (section 4.3, "In-core dense matrices"), not translated from
// the TOOLS sources. All are local and allocate nothing.
//
// One dimension of a block-cyclic distribution is given by
//
//	nb      the block size (rows for the row dimension, columns for the column one),
//	nprocs  the number of process rows (or columns) of the grid,
//	isrc    the process row (column) that holds the first block.
//
// Global block b (covering global indices b*nb .. b*nb+nb-1) lives on process
// coordinate (isrc + b) mod nprocs, and is that process's local block
// b / nprocs. Indices are 0-based; process coordinates are 0-based, as they
// are in ScaLAPACK.

// Numroc returns the number of rows (or columns) of an n-long dimension split
// into blocks of nb that process coordinate iproc owns, when process
// coordinate isrcproc holds the first block and the dimension is dealt over
// nprocs processes.
//
// Numroc(n, nb, iproc, isrcproc, nprocs) equals ScaLAPACK's
// NUMROC(N, NB, IPROC, ISRCPROC, NPROCS) for every valid argument: n is a
// length and process coordinates are 0-based in both, so nothing shifts.
//
// Numroc panics if n < 0, nb < 1, nprocs < 1, or iproc or isrcproc is not in
// [0, nprocs). (ScaLAPACK's PBLAS accept isrcproc = -1 for a replicated
// dimension; that is a different layout here, not a special source.)
func Numroc(n, nb, iproc, isrcproc, nprocs int) int {
	checkDim(nb, nprocs)
	checkProc(iproc, nprocs)
	checkProc(isrcproc, nprocs)
	if n < 0 {
		panic(errNegLength)
	}
	// dist is how many processes after the source this one sits, cyclically;
	// it receives global blocks dist, dist+nprocs, dist+2*nprocs, ...
	dist := (iproc - isrcproc + nprocs) % nprocs
	full := n / nb          // number of complete blocks
	rounds := full / nprocs // complete rounds of the deal: one block each
	left := full % nprocs   // complete blocks dealt after the last full round
	count := rounds * nb
	switch {
	case dist < left:
		count += nb // one more complete block
	case dist == left:
		count += n % nb // the partial last block, possibly empty
	}
	return count
}

// Indxg2p returns the process coordinate that owns global index g.
//
// Indxg2p(g, nb, isrcproc, nprocs) equals ScaLAPACK's
// INDXG2P(g+1, NB, IPROC, ISRCPROC, NPROCS) for any IPROC: ScaLAPACK's
// IPROC argument is a dummy and is omitted here; the global index is 0-based
// here and 1-based there; the returned coordinate is 0-based in both.
//
// Indxg2p panics if g < 0, nb < 1, nprocs < 1 or isrcproc is not in
// [0, nprocs).
func Indxg2p(g, nb, isrcproc, nprocs int) int {
	checkDim(nb, nprocs)
	checkProc(isrcproc, nprocs)
	if g < 0 {
		panic(errNegIndex)
	}
	return (isrcproc + g/nb) % nprocs
}

// Indxg2l returns the local index, on the process that owns it, of global
// index g.
//
// Indxg2l(g, nb, nprocs) equals ScaLAPACK's
// INDXG2L(g+1, NB, IPROC, ISRCPROC, NPROCS) - 1 for any IPROC and ISRCPROC:
// both are dummies in ScaLAPACK and are omitted here. Like ScaLAPACK's, the
// result does not depend on the source process: on the owner, global block b
// is always local block b / nprocs.
//
// Indxg2l panics if g < 0, nb < 1 or nprocs < 1.
func Indxg2l(g, nb, nprocs int) int {
	checkDim(nb, nprocs)
	if g < 0 {
		panic(errNegIndex)
	}
	return (g/(nb*nprocs))*nb + g%nb
}

// Indxl2g returns the global index of local index l on process coordinate
// iproc.
//
// Indxl2g(l, nb, iproc, isrcproc, nprocs) equals ScaLAPACK's
// INDXL2G(l+1, NB, IPROC, ISRCPROC, NPROCS) - 1: indices are 0-based here
// and 1-based there; process coordinates are 0-based in both.
//
// Indxl2g panics if l < 0, nb < 1, nprocs < 1, or iproc or isrcproc is not
// in [0, nprocs).
func Indxl2g(l, nb, iproc, isrcproc, nprocs int) int {
	checkDim(nb, nprocs)
	checkProc(iproc, nprocs)
	checkProc(isrcproc, nprocs)
	if l < 0 {
		panic(errNegIndex)
	}
	dist := (iproc - isrcproc + nprocs) % nprocs
	// Local block l/nb is the (l/nb)-th block this process received, which
	// is global block dist + (l/nb)*nprocs.
	return ((l/nb)*nprocs+dist)*nb + l%nb
}

func checkDim(nb, nprocs int) {
	if nb < 1 {
		panic(errBlockSize)
	}
	if nprocs < 1 {
		panic(errNumProcs)
	}
}

func checkProc(p, nprocs int) {
	if p < 0 || p >= nprocs {
		panic(errProcRange)
	}
}
