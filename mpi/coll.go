package mpi

import "unsafe"

// Op is a predefined reduction operation.
type Op int

// Predefined operations; the order matches spmd_op in shim.h. MaxLoc and
// MinLoc take the pair types (Float64Int, ...). Band, Bor and Bxor take
// integer and byte types; Land, Lor and Lxor integers and bool.
const (
	Sum Op = iota
	Prod
	Max
	Min
	Land
	Lor
	Lxor
	Band
	Bor
	Bxor
	MaxLoc
	MinLoc
	// Replace and NoOp are for one-sided accumulate operations.
	Replace
	NoOp
	numOps
)

func (o Op) String() string {
	names := [...]string{"MPI_SUM", "MPI_PROD", "MPI_MAX", "MPI_MIN", "MPI_LAND", "MPI_LOR", "MPI_LXOR",
		"MPI_BAND", "MPI_BOR", "MPI_BXOR", "MPI_MAXLOC", "MPI_MINLOC", "MPI_REPLACE", "MPI_NO_OP"}
	if o < 0 || o >= numOps {
		return "Op(?)"
	}
	return names[o]
}

// collOp names a collective for the low layer.
type collOp uint8

const (
	cBarrier collOp = iota
	cBcast
	cReduce
	cAllreduce
	cGather
	cGatherv
	cScatter
	cScatterv
	cAllgather
	cAllgatherv
	cAlltoall
	cAlltoallv
	cReduceScatterBlock
	cScan
	cExscan
	cReduceScatter
)

var collNames = [...]string{"Barrier", "Bcast", "Reduce", "Allreduce", "Gather", "Gatherv", "Scatter",
	"Scatterv", "Allgather", "Allgatherv", "Alltoall", "Alltoallv", "Reduce_scatter_block", "Scan", "Exscan", "Reduce_scatter"}

// callNames[nb][op] is the MPI name of collective op, precomputed so that
// naming the call costs nothing on the hot path.
var callNames = func() (n [2][len(collNames)]string) {
	for op, name := range collNames {
		n[0][op] = "MPI_" + name
		n[1][op] = "MPI_I" + string(name[0]+'a'-'A') + name[1:]
	}
	return n
}()

func collName(op collOp, nb bool) string {
	if nb {
		return callNames[1][op]
	}
	return callNames[0][op]
}

// collArgs carries a collective's arguments to the low layer. sc/sd and
// rc/rd are the count and displacement arrays of the v-variants.
type collArgs struct {
	s, r           buf
	inPlace        bool
	sc, sd, rc, rd []int32
	root           int
	op             Op
	blk            int // elements per rank of the fixed-size gather/scatter family
}

// coll runs a blocking (nb false) or nonblocking collective after checks.
func coll(c *Comm, op collOp, nb bool, a *collArgs) (Request, error) {
	call := collName(op, nb)
	h, rc := lowColl(op, nb, a, c.h)
	if rc != 0 {
		return Request{}, codeErr(rc, call)
	}
	if !nb {
		return Request{}, nil
	}
	var extra [4]unsafe.Pointer
	for i, v := range [][]int32{a.sc, a.sd, a.rc, a.rd} {
		extra[i] = dataPtr(v)
	}
	return newRequest(h, a.r.k, false, a.s.p, a.r.p, extra[:]...), nil
}

func checkOp(call string, op Op, k kind) error { return checkOpKind(call, op, k, false) }

func checkOpKind(call string, op Op, k kind, rma bool) error {
	if op < 0 || op >= numOps {
		return argErr(clsOp, call, "operation %d is not a predefined mpi.Op", int(op))
	}
	if want := opTypes(op, k, rma); want != "" {
		return argErr(clsOp, call, "%v is not defined on %v (it takes %s)", op, k, want)
	}
	return nil
}

// opTypes returns "" when the MPI standard defines op on elements of kind k
// (MPI 4.1 section 6.9.2; with rma, also MPI_REPLACE and MPI_NO_OP, which
// only one-sided accumulates take), else the types op takes, for the error.
// Open MPI and MPICH reject the other pairs at run time, or worse.
func opTypes(op Op, k kind, rma bool) string {
	integer := k >= kInt8 && k <= kUint64
	float := k == kFloat32 || k == kFloat64
	complex := k == kComplex64 || k == kComplex128
	pair := k >= kFloat32Int && k <= kInt64Int
	switch op {
	case Sum, Prod:
		if integer || float || complex {
			return ""
		}
		return "integer, floating point and complex types"
	case Max, Min:
		if integer || float {
			return ""
		}
		return "integer and floating point types"
	case Land, Lor, Lxor:
		if integer || k == kBool {
			return ""
		}
		return "integer types and bool"
	case Band, Bor, Bxor:
		if integer || k == kByte {
			return ""
		}
		return "integer types and byte"
	case MaxLoc, MinLoc:
		if pair {
			return ""
		}
		return "the (value, index) pair types Float32Int, Float64Int, Int32Pair and Int64Int"
	case Replace, NoOp:
		if rma {
			return ""
		}
		return "nothing in a collective: it is for one-sided accumulates"
	}
	return ""
}

// CheckOp reports whether the MPI standard defines op on elements of type
// T: an error wrapping ErrOp that names both when it does not. With rma,
// Replace and NoOp are allowed too (one-sided accumulates). Package rma
// uses it; reductions here check the same before calling MPI.
func CheckOp[T Elem](call string, op Op, rma bool) error {
	return checkOpKind(call, op, kindOf[T](), rma)
}

func lenErr(call, what string, got, want int) error {
	return argErr(clsCount, call, "len(%s) = %d, want %d", what, got, want)
}

// Barrier blocks until every rank of c has called it (MPI_Barrier).
func Barrier(c *Comm) error {
	if err := c.check("MPI_Barrier"); err != nil {
		return err
	}
	_, err := coll(c, cBarrier, false, &collArgs{})
	return err
}

// Ibarrier starts a barrier (MPI_Ibarrier).
func Ibarrier(c *Comm) (Request, error) {
	if err := c.check("MPI_Ibarrier"); err != nil {
		return Request{}, err
	}
	return coll(c, cBarrier, true, &collArgs{})
}

func bcast[T Elem](c *Comm, nb bool, buf []T, root int) (Request, error) {
	call := collName(cBcast, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	if err := c.checkRoot(call, root); err != nil {
		return Request{}, err
	}
	if err := checkLen(call, len(buf)); err != nil {
		return Request{}, err
	}
	b := bufOf(buf)
	return coll(c, cBcast, nb, &collArgs{s: b, r: b, root: root})
}

// Bcast sends root's buf to every rank's buf (MPI_Bcast). Every rank passes
// a buffer of the same length.
func Bcast[T Elem](c *Comm, buf []T, root int) error {
	_, err := bcast(c, false, buf, root)
	return err
}

// Ibcast starts a broadcast (MPI_Ibcast).
func Ibcast[T Elem](c *Comm, buf []T, root int) (Request, error) { return bcast(c, true, buf, root) }

func reduce[T Elem](c *Comm, op collOp, nb bool, send, recv []T, o Op, root int, inPlace bool) (Request, error) {
	call := collName(op, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	if err := checkOp(call, o, kindOf[T]()); err != nil {
		return Request{}, err
	}
	if err := checkLen(call, len(send)); err != nil {
		return Request{}, err
	}
	a := &collArgs{s: bufOf(send), r: bufOf(recv), op: o, root: root, inPlace: inPlace}
	switch op {
	case cReduce:
		if err := c.checkRoot(call, root); err != nil {
			return Request{}, err
		}
		if c.rank == root && !inPlace && len(recv) != len(send) {
			return Request{}, lenErr(call, "recv", len(recv), len(send))
		}
	case cReduceScatterBlock:
		if len(send) != len(recv)*c.size {
			return Request{}, argErr(clsCount, call, "len(send) = %d, want len(recv) * size = %d * %d", len(send), len(recv), c.size)
		}
	default:
		if !inPlace && len(recv) != len(send) {
			return Request{}, lenErr(call, "recv", len(recv), len(send))
		}
	}
	return coll(c, op, nb, a)
}

// Reduce combines every rank's send with op into root's recv (MPI_Reduce).
// recv must have len(send) elements at the root and is ignored elsewhere
// (nil is fine there).
func Reduce[T Elem](c *Comm, send, recv []T, op Op, root int) error {
	_, err := reduce(c, cReduce, false, send, recv, op, root, false)
	return err
}

// Ireduce starts a reduction (MPI_Ireduce).
func Ireduce[T Elem](c *Comm, send, recv []T, op Op, root int) (Request, error) {
	return reduce(c, cReduce, true, send, recv, op, root, false)
}

// ReduceInPlace reduces buf across ranks into root's buf (MPI_IN_PLACE at
// the root). buf is unchanged on the other ranks.
func ReduceInPlace[T Elem](c *Comm, buf []T, op Op, root int) error {
	inPlace := c != nil && c.rank == root
	_, err := reduce(c, cReduce, false, buf, buf, op, root, inPlace)
	return err
}

// Allreduce combines every rank's send with op into every rank's recv
// (MPI_Allreduce); both have the same length on every rank.
func Allreduce[T Elem](c *Comm, send, recv []T, op Op) error {
	_, err := reduce(c, cAllreduce, false, send, recv, op, 0, false)
	return err
}

// AllreduceInPlace reduces buf across ranks and leaves the result in every
// rank's buf (MPI_IN_PLACE).
func AllreduceInPlace[T Elem](c *Comm, buf []T, op Op) error {
	_, err := reduce(c, cAllreduce, false, buf, buf, op, 0, true)
	return err
}

// Iallreduce starts an allreduce (MPI_Iallreduce).
func Iallreduce[T Elem](c *Comm, send, recv []T, op Op) (Request, error) {
	return reduce(c, cAllreduce, true, send, recv, op, 0, false)
}

// IallreduceInPlace starts an in-place allreduce.
func IallreduceInPlace[T Elem](c *Comm, buf []T, op Op) (Request, error) {
	return reduce(c, cAllreduce, true, buf, buf, op, 0, true)
}

// ReduceScatterBlock reduces send (len(recv) * size elements) with op and
// scatters block i of the result to rank i's recv (MPI_Reduce_scatter_block).
func ReduceScatterBlock[T Elem](c *Comm, send, recv []T, op Op) error {
	_, err := reduce(c, cReduceScatterBlock, false, send, recv, op, 0, false)
	return err
}

// IreduceScatterBlock starts a reduce-scatter (MPI_Ireduce_scatter_block).
func IreduceScatterBlock[T Elem](c *Comm, send, recv []T, op Op) (Request, error) {
	return reduce(c, cReduceScatterBlock, true, send, recv, op, 0, false)
}

// ReduceScatter reduces send (sum(counts) elements on every rank) with op
// and scatters the result in blocks of counts[i] elements, in rank order,
// to rank i's recv, which holds counts[rank] elements (MPI_Reduce_scatter).
// Every rank passes the same counts.
func ReduceScatter[T Elem](c *Comm, send, recv []T, counts []int, op Op) error {
	_, err := reduceScatter(c, false, send, recv, counts, op)
	return err
}

// IreduceScatter starts a ReduceScatter (MPI_Ireduce_scatter). The counts
// are copied and pinned until the request completes.
func IreduceScatter[T Elem](c *Comm, send, recv []T, counts []int, op Op) (Request, error) {
	return reduceScatter(c, true, send, recv, counts, op)
}

func reduceScatter[T Elem](c *Comm, nb bool, send, recv []T, counts []int, op Op) (Request, error) {
	call := collName(cReduceScatter, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	if err := checkOp(call, op, kindOf[T]()); err != nil {
		return Request{}, err
	}
	rc, _, err := vector(call, "recv", c.size, counts, nil, 1<<31-1)
	if err != nil {
		return Request{}, err
	}
	total := 0
	for _, k := range counts {
		total += k
	}
	if len(send) != total {
		return Request{}, argErr(clsCount, call, "len(send) = %d, want sum(counts) = %d", len(send), total)
	}
	if len(recv) != counts[c.rank] {
		return Request{}, argErr(clsCount, call, "len(recv) = %d on rank %d, want counts[%d] = %d", len(recv), c.rank, c.rank, counts[c.rank])
	}
	return coll(c, cReduceScatter, nb, &collArgs{s: bufOf(send), r: bufOf(recv), rc: rc, op: op})
}

// Scan leaves in rank i's recv the reduction of send over ranks 0..i
// (MPI_Scan).
func Scan[T Elem](c *Comm, send, recv []T, op Op) error {
	_, err := reduce(c, cScan, false, send, recv, op, 0, false)
	return err
}

// Iscan starts an inclusive scan (MPI_Iscan).
func Iscan[T Elem](c *Comm, send, recv []T, op Op) (Request, error) {
	return reduce(c, cScan, true, send, recv, op, 0, false)
}

// Exscan leaves in rank i's recv the reduction over ranks 0..i-1
// (MPI_Exscan); rank 0's recv is left unchanged.
func Exscan[T Elem](c *Comm, send, recv []T, op Op) error {
	_, err := reduce(c, cExscan, false, send, recv, op, 0, false)
	return err
}

// Iexscan starts an exclusive scan (MPI_Iexscan).
func Iexscan[T Elem](c *Comm, send, recv []T, op Op) (Request, error) {
	return reduce(c, cExscan, true, send, recv, op, 0, false)
}

// blockColl checks and runs the fixed-size gather/scatter/alltoall family.
// The "many" side holds size blocks of the "one" side's length.
func blockColl[T Elem](c *Comm, op collOp, nb bool, send, recv []T, root int) (Request, error) {
	call := collName(op, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	if err := checkLen(call, len(send)); err != nil {
		return Request{}, err
	}
	if err := checkLen(call, len(recv)); err != nil {
		return Request{}, err
	}
	isRoot := c.rank == root
	switch op {
	case cGather, cScatter:
		if err := c.checkRoot(call, root); err != nil {
			return Request{}, err
		}
	}
	switch {
	case op == cGather && isRoot, op == cAllgather:
		if len(recv) != len(send)*c.size {
			return Request{}, argErr(clsCount, call, "len(recv) = %d, want len(send) * size = %d * %d", len(recv), len(send), c.size)
		}
	case op == cScatter && isRoot:
		if len(send) != len(recv)*c.size {
			return Request{}, argErr(clsCount, call, "len(send) = %d, want len(recv) * size = %d * %d", len(send), len(recv), c.size)
		}
	case op == cAlltoall:
		if len(send) != len(recv) || len(send)%c.size != 0 {
			return Request{}, argErr(clsCount, call, "len(send) = %d and len(recv) = %d must be equal and a multiple of size %d", len(send), len(recv), c.size)
		}
	}
	blk := len(send)
	switch op {
	case cScatter:
		blk = len(recv)
	case cAlltoall:
		blk = len(send) / c.size
	}
	return coll(c, op, nb, &collArgs{s: bufOf(send), r: bufOf(recv), root: root, blk: blk})
}

// Gather collects every rank's send, in rank order, into root's recv
// (MPI_Gather); recv has len(send) * size elements at the root.
func Gather[T Elem](c *Comm, send, recv []T, root int) error {
	_, err := blockColl(c, cGather, false, send, recv, root)
	return err
}

// Igather starts a gather (MPI_Igather).
func Igather[T Elem](c *Comm, send, recv []T, root int) (Request, error) {
	return blockColl(c, cGather, true, send, recv, root)
}

// Scatter sends block i of root's send (len(recv) * size elements) to rank
// i's recv (MPI_Scatter).
func Scatter[T Elem](c *Comm, send, recv []T, root int) error {
	_, err := blockColl(c, cScatter, false, send, recv, root)
	return err
}

// Iscatter starts a scatter (MPI_Iscatter).
func Iscatter[T Elem](c *Comm, send, recv []T, root int) (Request, error) {
	return blockColl(c, cScatter, true, send, recv, root)
}

// Allgather collects every rank's send, in rank order, into every rank's
// recv (MPI_Allgather).
func Allgather[T Elem](c *Comm, send, recv []T) error {
	_, err := blockColl(c, cAllgather, false, send, recv, 0)
	return err
}

// Iallgather starts an allgather (MPI_Iallgather).
func Iallgather[T Elem](c *Comm, send, recv []T) (Request, error) {
	return blockColl(c, cAllgather, true, send, recv, 0)
}

// Alltoall sends block j of send to rank j, which stores it as block i of
// its recv (MPI_Alltoall); send and recv have the same length, a multiple of
// the size.
func Alltoall[T Elem](c *Comm, send, recv []T) error {
	_, err := blockColl(c, cAlltoall, false, send, recv, 0)
	return err
}

// Ialltoall starts an alltoall (MPI_Ialltoall).
func Ialltoall[T Elem](c *Comm, send, recv []T) (Request, error) {
	return blockColl(c, cAlltoall, true, send, recv, 0)
}

// vector checks the counts and displacements of a v-collective against a
// buffer of n elements. A nil displs means packed blocks (prefix sums of
// counts).
func vector(call, name string, size int, counts, displs []int, n int) (cs, ds []int32, err error) {
	if len(counts) != size {
		return nil, nil, argErr(clsCount, call, "len(%scounts) = %d, want the communicator size %d", name, len(counts), size)
	}
	if displs != nil && len(displs) != size {
		return nil, nil, argErr(clsArg, call, "len(%sdispls) = %d, want the communicator size %d", name, len(displs), size)
	}
	cs = make([]int32, size)
	ds = make([]int32, size)
	off := 0
	for i, k := range counts {
		if k < 0 {
			return nil, nil, argErr(clsCount, call, "%scounts[%d] = %d is negative", name, i, k)
		}
		d := off
		if displs != nil {
			d = displs[i]
			if d < 0 {
				return nil, nil, argErr(clsArg, call, "%sdispls[%d] = %d is negative", name, i, d)
			}
		}
		if d+k > n {
			return nil, nil, argErr(clsCount, call, "%scounts[%d] = %d at displacement %d overruns the buffer of %d elements", name, i, k, d, n)
		}
		if d+k > 1<<31-1 {
			return nil, nil, argErr(clsCount, call, "%sdispls[%d] + %scounts[%d] exceeds the MPI count limit", name, i, name, i)
		}
		cs[i], ds[i] = int32(k), int32(d)
		off = d + k
	}
	return cs, ds, nil
}

// Gatherv gathers send from every rank into root's recv, rank i's block of
// counts[i] elements at displs[i] (MPI_Gatherv). counts and displs matter
// only at the root; a nil displs packs the blocks in rank order.
func Gatherv[T Elem](c *Comm, send, recv []T, counts, displs []int, root int) error {
	_, err := gatherv(c, false, send, recv, counts, displs, root)
	return err
}

// Igatherv starts a Gatherv (MPI_Igatherv).
func Igatherv[T Elem](c *Comm, send, recv []T, counts, displs []int, root int) (Request, error) {
	return gatherv(c, true, send, recv, counts, displs, root)
}

func gatherv[T Elem](c *Comm, nb bool, send, recv []T, counts, displs []int, root int) (Request, error) {
	call := collName(cGatherv, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	if err := c.checkRoot(call, root); err != nil {
		return Request{}, err
	}
	if err := checkLen(call, len(send)); err != nil {
		return Request{}, err
	}
	a := &collArgs{s: bufOf(send), r: bufOf(recv), root: root}
	if c.rank == root {
		var err error
		if a.rc, a.rd, err = vector(call, "", c.size, counts, displs, len(recv)); err != nil {
			return Request{}, err
		}
		if int(a.rc[root]) != len(send) {
			return Request{}, argErr(clsCount, call, "root's counts[%d] = %d but it sends %d elements", root, a.rc[root], len(send))
		}
	}
	return coll(c, cGatherv, nb, a)
}

// Scatterv sends counts[i] elements of root's send, from displs[i], to rank
// i's recv (MPI_Scatterv). counts and displs matter only at the root.
func Scatterv[T Elem](c *Comm, send []T, counts, displs []int, recv []T, root int) error {
	_, err := scatterv(c, false, send, counts, displs, recv, root)
	return err
}

// Iscatterv starts a Scatterv (MPI_Iscatterv).
func Iscatterv[T Elem](c *Comm, send []T, counts, displs []int, recv []T, root int) (Request, error) {
	return scatterv(c, true, send, counts, displs, recv, root)
}

func scatterv[T Elem](c *Comm, nb bool, send []T, counts, displs []int, recv []T, root int) (Request, error) {
	call := collName(cScatterv, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	if err := c.checkRoot(call, root); err != nil {
		return Request{}, err
	}
	if err := checkLen(call, len(recv)); err != nil {
		return Request{}, err
	}
	a := &collArgs{s: bufOf(send), r: bufOf(recv), root: root}
	if c.rank == root {
		var err error
		if a.sc, a.sd, err = vector(call, "", c.size, counts, displs, len(send)); err != nil {
			return Request{}, err
		}
	}
	return coll(c, cScatterv, nb, a)
}

// Allgatherv gathers every rank's send into every rank's recv, rank i's
// block of counts[i] elements at displs[i] (MPI_Allgatherv).
func Allgatherv[T Elem](c *Comm, send, recv []T, counts, displs []int) error {
	_, err := allgatherv(c, false, send, recv, counts, displs)
	return err
}

// Iallgatherv starts an Allgatherv (MPI_Iallgatherv).
func Iallgatherv[T Elem](c *Comm, send, recv []T, counts, displs []int) (Request, error) {
	return allgatherv(c, true, send, recv, counts, displs)
}

func allgatherv[T Elem](c *Comm, nb bool, send, recv []T, counts, displs []int) (Request, error) {
	call := collName(cAllgatherv, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	if err := checkLen(call, len(send)); err != nil {
		return Request{}, err
	}
	a := &collArgs{s: bufOf(send), r: bufOf(recv)}
	var err error
	if a.rc, a.rd, err = vector(call, "", c.size, counts, displs, len(recv)); err != nil {
		return Request{}, err
	}
	if int(a.rc[c.rank]) != len(send) {
		return Request{}, argErr(clsCount, call, "counts[%d] = %d but this rank sends %d elements", c.rank, a.rc[c.rank], len(send))
	}
	return coll(c, cAllgatherv, nb, a)
}

// Alltoallv sends sendCounts[j] elements of send from sendDispls[j] to rank
// j, and receives recvCounts[i] elements from rank i into recv at
// recvDispls[i] (MPI_Alltoallv). Nil displacements pack the blocks.
func Alltoallv[T Elem](c *Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) error {
	_, err := alltoallv(c, false, send, sendCounts, sendDispls, recv, recvCounts, recvDispls)
	return err
}

// Ialltoallv starts an Alltoallv (MPI_Ialltoallv). The count and
// displacement arrays are copied and pinned until the request completes.
func Ialltoallv[T Elem](c *Comm, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) (Request, error) {
	return alltoallv(c, true, send, sendCounts, sendDispls, recv, recvCounts, recvDispls)
}

func alltoallv[T Elem](c *Comm, nb bool, send []T, sendCounts, sendDispls []int, recv []T, recvCounts, recvDispls []int) (Request, error) {
	call := collName(cAlltoallv, nb)
	if err := c.check(call); err != nil {
		return Request{}, err
	}
	a := &collArgs{s: bufOf(send), r: bufOf(recv)}
	var err error
	if a.sc, a.sd, err = vector(call, "send", c.size, sendCounts, sendDispls, len(send)); err != nil {
		return Request{}, err
	}
	if a.rc, a.rd, err = vector(call, "recv", c.size, recvCounts, recvDispls, len(recv)); err != nil {
		return Request{}, err
	}
	return coll(c, cAlltoallv, nb, a)
}
