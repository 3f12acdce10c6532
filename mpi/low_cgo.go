//go:build cgo

// The low layer: the only Go file that calls C. Each function is one cgo
// crossing. low_nocgo.go is generated from this file (go generate) and must
// stay in sync with it: its functions have the same signatures and are never
// called, because without cgo Init fails and every call stops at the state
// check.

package mpi

//go:generate go run ../scripts/gen-nocgo -in low_cgo.go -out low_nocgo.go

/*
#cgo !mpich pkg-config: ompi-c
#cgo mpich pkg-config: mpich
// MPICH defines MPI_STATUSES_IGNORE as (MPI_Status *)1, which GCC 12 flags as
// an overflow of a zero-sized region: a false positive.
#cgo mpich CFLAGS: -Wno-stringop-overflow
// The hot-path shims never call back into Go and keep no pointer they are
// given: tell cgo, which makes their calls cheaper.
#cgo nocallback spmd_send
#cgo nocallback spmd_recv
#cgo nocallback spmd_isend
#cgo nocallback spmd_isend_test
#cgo nocallback spmd_irecv
#cgo nocallback spmd_wait
#cgo nocallback spmd_test
#cgo nocallback spmd_waitall
#cgo nocallback spmd_testall
#cgo nocallback spmd_some
#cgo nocallback spmd_waitany
#cgo nocallback spmd_testany
#cgo noescape spmd_waitall
#cgo noescape spmd_testall
#cgo noescape spmd_some
#cgo noescape spmd_waitany
#cgo noescape spmd_testany
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"strconv"
	"unsafe"
)

type (
	commH  = C.MPI_Comm
	groupH = C.MPI_Group
	reqH   = C.MPI_Request
	msgH   = C.MPI_Message
)

const lowAvailable = true

var (
	commNull  commH
	groupNull groupH
	reqNull   reqH
	dtypes    [numKinds]C.MPI_Datatype
	ops       [numOps]C.MPI_Op
	inPlace   unsafe.Pointer
)

func init() {
	commNull = C.spmd_comm_null()
	groupNull = C.spmd_group_null()
	reqNull = C.spmd_request_null()
	inPlace = C.spmd_in_place()
	for k := range dtypes {
		dtypes[k] = C.spmd_datatype(C.int(k))
	}
	for o := range ops {
		ops[o] = C.spmd_op(C.int(o))
	}
	for c := range classNums {
		classNums[c] = int(C.spmd_err_class(C.int(c)))
	}
	setSentinelClasses()
	AnySource = int(C.spmd_any_source())
	AnyTag = int(C.spmd_any_tag())
	ProcNull = int(C.spmd_proc_null())
	Undefined = int(C.spmd_undefined())
}

func levelToC(l ThreadLevel) C.int { return C.spmd_thread_level(C.int(l)) }

func levelFromC(v C.int) ThreadLevel {
	for l := ThreadSingle; l <= ThreadMultiple; l++ {
		if levelToC(l) == v {
			return l
		}
	}
	return ThreadSingle
}

func lowInit(required ThreadLevel) (ThreadLevel, int) {
	var p C.int
	rc := C.spmd_init(levelToC(required), &p)
	return levelFromC(p), int(rc)
}

func lowInitialized() bool {
	var f C.int
	C.MPI_Initialized(&f)
	return f != 0
}

func lowFinalize() int               { return int(C.MPI_Finalize()) }
func lowAbort(c commH, code int) int { return int(C.MPI_Abort(c, C.int(code))) }
func lowWtime() float64              { return float64(C.MPI_Wtime()) }
func lowWtick() float64              { return float64(C.MPI_Wtick()) }
func lowCommWorld() commH            { return C.spmd_comm_world() }
func lowCommSelf() commH             { return C.spmd_comm_self() }
func lowErrorClass(code int) int     { return int(C.spmd_error_class(C.int(code))) }
func lowTagUB(c commH) int           { return int(C.spmd_tag_ub(c)) }
func lowCommFree(c commH) int        { return int(C.spmd_comm_free(c)) }
func lowGroupFree(g groupH) int      { return int(C.spmd_group_free(g)) }
func lowCancel(r reqH) int           { return int(C.spmd_cancel(r)) }
func lowStart(r reqH) int            { return int(C.spmd_start(r)) }
func lowRequestFree(r reqH) int      { return int(C.spmd_request_free(r).rc) }
func lowDimsCreate(n int, d []int32) int {
	return int(C.MPI_Dims_create(C.int(n), C.int(len(d)), cints(d)))
}

func lowIsThreadMain() bool {
	var f C.int
	C.MPI_Is_thread_main(&f)
	return f != 0
}

func lowErrorString(code int) string {
	b := make([]byte, int(C.spmd_max_error_string())+1)
	n := C.spmd_error_string(C.int(code), (*C.char)(unsafe.Pointer(&b[0])))
	if n <= 0 {
		return "unknown error code " + strconv.Itoa(code)
	}
	return string(b[:n])
}

func lowProcessorName() (string, error) {
	b := make([]byte, int(C.spmd_max_processor_name())+1)
	var n C.int
	if rc := C.MPI_Get_processor_name((*C.char)(unsafe.Pointer(&b[0])), &n); rc != 0 {
		return "", codeErr(int(rc), "MPI_Get_processor_name")
	}
	return string(b[:n]), nil
}

func lowVersion() (int, int) {
	var a, b C.int
	C.MPI_Get_version(&a, &b)
	return int(a), int(b)
}

func lowLibraryVersion() string {
	b := make([]byte, int(C.spmd_max_library_version_string())+1)
	var n C.int
	C.MPI_Get_library_version((*C.char)(unsafe.Pointer(&b[0])), &n)
	return string(b[:n])
}

func cints(v []int32) *C.int {
	if len(v) == 0 {
		return nil
	}
	return (*C.int)(unsafe.Pointer(&v[0]))
}

func raw(s C.spmd_status) rawStatus { return *(*rawStatus)(unsafe.Pointer(&s)) }

func lowCommRankSize(c commH) (int, int, int) {
	var r, n C.int
	if rc := C.MPI_Comm_rank(c, &r); rc != 0 {
		return 0, 0, int(rc)
	}
	rc := C.MPI_Comm_size(c, &n)
	return int(r), int(n), int(rc)
}

func lowCommDup(c commH) (commH, int) {
	r := C.spmd_comm_dup(c)
	return r.comm, int(r.rc)
}

func lowCommSplit(c commH, color, key int) (commH, int) {
	r := C.spmd_comm_split(c, C.int(color), C.int(key))
	return r.comm, int(r.rc)
}

func lowCommSplitShared(c commH, key int) (commH, int) {
	r := C.spmd_comm_split_type(c, C.spmd_comm_type_shared(), C.int(key))
	return r.comm, int(r.rc)
}

func lowCommCreate(c commH, g groupH) (commH, int) {
	r := C.spmd_comm_create(c, g)
	return r.comm, int(r.rc)
}

func lowCommCreateGroup(c commH, g groupH, tag int) (commH, int) {
	r := C.spmd_comm_create_group(c, g, C.int(tag))
	return r.comm, int(r.rc)
}

func lowCommCompare(a, b commH) (CompareResult, int) {
	var res C.int
	rc := C.MPI_Comm_compare(a, b, &res)
	for k := Ident; k <= Unequal; k++ {
		if C.spmd_compare_result(C.int(k)) == res {
			return k, int(rc)
		}
	}
	return Unequal, int(rc)
}

func lowCommGroup(c commH) (groupH, int) {
	r := C.spmd_comm_group(c)
	return r.group, int(r.rc)
}

func lowGroupSizeRank(g groupH) (int, int) {
	var n, r C.int
	C.MPI_Group_size(g, &n)
	C.MPI_Group_rank(g, &r)
	return int(n), int(r)
}

func lowGroupSub(g groupH, ranks []int32, excl bool) (groupH, int) {
	var r C.spmd_group_ret
	if excl {
		r = C.spmd_group_excl(g, C.int(len(ranks)), cints(ranks))
	} else {
		r = C.spmd_group_incl(g, C.int(len(ranks)), cints(ranks))
	}
	return r.group, int(r.rc)
}

func lowGroupTranslate(g groupH, ranks []int32, o groupH, out []int32) int {
	return int(C.MPI_Group_translate_ranks(g, C.int(len(ranks)), cints(ranks), o, cints(out)))
}

func lowCartCreate(c commH, dims, periods []int32, reorder bool) (commH, int) {
	ro := C.int(0)
	if reorder {
		ro = 1
	}
	r := C.spmd_cart_create(c, C.int(len(dims)), cints(dims), cints(periods), ro)
	return r.comm, int(r.rc)
}

func lowCartCoords(c commH, rank int, out []int32) int {
	return int(C.MPI_Cart_coords(c, C.int(rank), C.int(len(out)), cints(out)))
}

func lowCartRank(c commH, coords []int32) (int, int) {
	var r C.int
	rc := C.MPI_Cart_rank(c, cints(coords), &r)
	return int(r), int(rc)
}

func lowCartShift(c commH, dir, disp int) (int, int, int) {
	var s, d C.int
	rc := C.MPI_Cart_shift(c, C.int(dir), C.int(disp), &s, &d)
	return int(s), int(d), int(rc)
}

func lowCartSub(c commH, remain []int32) (commH, int) {
	r := C.spmd_cart_sub(c, cints(remain))
	return r.comm, int(r.rc)
}

// addr passes a buffer to the hot-path shims as an integer; the caller keeps
// the buffer alive with runtime.KeepAlive until the call returns, and
// nonblocking calls pin it (newRequest).
func addr(p unsafe.Pointer) C.uintptr_t { return C.uintptr_t(uintptr(p)) }

func lowSend(mode int, b buf, dest, tag int, c commH) int {
	rc := C.spmd_send(C.int(mode), addr(b.p), C.int(b.n), dtypes[b.k], C.int(dest), C.int(tag), c)
	runtime.KeepAlive(b.p)
	return int(rc)
}

func lowRecv(b buf, src, tag int, c commH) rawStatus {
	st := C.spmd_recv(addr(b.p), C.int(b.n), dtypes[b.k], C.int(src), C.int(tag), c)
	runtime.KeepAlive(b.p)
	return raw(st)
}

func lowSendrecv(s buf, dest, stag int, r buf, src, rtag int, c commH) rawStatus {
	return raw(C.spmd_sendrecv(s.p, C.int(s.n), dtypes[s.k], C.int(dest), C.int(stag),
		r.p, C.int(r.n), dtypes[r.k], C.int(src), C.int(rtag), c))
}

func lowSendrecvReplace(b buf, dest, stag, src, rtag int, c commH) rawStatus {
	return raw(C.spmd_sendrecv_replace(b.p, C.int(b.n), dtypes[b.k], C.int(dest), C.int(stag), C.int(src), C.int(rtag), c))
}

func lowIsend(mode int, b buf, dest, tag int, c commH) (reqH, int) {
	r := C.spmd_isend(C.int(mode), addr(b.p), C.int(b.n), dtypes[b.k], C.int(dest), C.int(tag), c)
	runtime.KeepAlive(b.p)
	return r.req, int(r.rc)
}

func lowAllocMem(n int) (unsafe.Pointer, int) {
	m := C.spmd_alloc_mem(C.int64_t(n))
	return m.p, int(m.rc)
}

func lowFreeMem(p unsafe.Pointer) int {
	return int(C.spmd_free_mem(addr(p)))
}

// lowIsendTest starts a standard send and tests it; done reports that it
// completed at once.
func lowIsendTest(b buf, dest, tag int, c commH) (h reqH, done bool, rc int) {
	r := C.spmd_isend_test(addr(b.p), C.int(b.n), dtypes[b.k], C.int(dest), C.int(tag), c)
	runtime.KeepAlive(b.p)
	return r.req, r.done != 0, int(r.rc)
}

func lowIrecv(b buf, src, tag int, c commH) (reqH, int) {
	r := C.spmd_irecv(addr(b.p), C.int(b.n), dtypes[b.k], C.int(src), C.int(tag), c)
	runtime.KeepAlive(b.p)
	return r.req, int(r.rc)
}

func lowSendInit(mode int, b buf, dest, tag int, c commH) (reqH, int) {
	r := C.spmd_send_init(C.int(mode), b.p, C.int(b.n), dtypes[b.k], C.int(dest), C.int(tag), c)
	return r.req, int(r.rc)
}

func lowRecvInit(b buf, src, tag int, c commH) (reqH, int) {
	r := C.spmd_recv_init(b.p, C.int(b.n), dtypes[b.k], C.int(src), C.int(tag), c)
	return r.req, int(r.rc)
}

func lowProbe(src, tag int, c commH) rawStatus {
	return raw(C.spmd_probe(C.int(src), C.int(tag), c))
}

func lowIprobe(src, tag int, c commH) (bool, rawStatus) {
	d := C.spmd_iprobe(C.int(src), C.int(tag), c)
	return d.flag != 0, raw(d.st)
}

func lowMprobe(block bool, src, tag int, c commH) (msgH, bool, rawStatus) {
	b := C.int(0)
	if block {
		b = 1
	}
	r := C.spmd_mprobe(b, C.int(src), C.int(tag), c)
	return r.msg, r.flag != 0, raw(r.st)
}

func lowMrecv(b buf, m msgH) rawStatus {
	return raw(C.spmd_mrecv(b.p, C.int(b.n), dtypes[b.k], m))
}

func lowWait(r reqH, k kind) (reqH, rawStatus) {
	d := C.spmd_wait(r, dtypes[k])
	return d.req, raw(d.st)
}

func lowTest(r reqH, k kind) (reqH, bool, rawStatus) {
	d := C.spmd_test(r, dtypes[k])
	return d.req, d.flag != 0, raw(d.st)
}

func scratchArgs(s *scratch, want bool) (*C.MPI_Request, *C.uchar, *C.spmd_status) {
	if len(s.h) == 0 {
		return nil, nil, nil
	}
	var st *C.spmd_status
	if want {
		st = (*C.spmd_status)(unsafe.Pointer(&s.st[0]))
	}
	return &s.h[0], (*C.uchar)(unsafe.Pointer(&s.k[0])), st
}

func lowWaitall(s *scratch, want bool) int {
	h, k, st := scratchArgs(s, want)
	return int(C.spmd_waitall(C.int(len(s.h)), h, k, st))
}

func lowTestall(s *scratch, want bool) (bool, int) {
	h, k, st := scratchArgs(s, want)
	var flag C.int
	rc := C.spmd_testall(C.int(len(s.h)), h, k, st, &flag)
	return flag != 0, int(rc)
}

func lowWaitany(s *scratch) (int, int) {
	h, k, _ := scratchArgs(s, false)
	var idx C.int
	if len(s.h) == 0 {
		return Undefined, 0
	}
	rc := C.spmd_waitany(C.int(len(s.h)), h, k, (*C.spmd_status)(unsafe.Pointer(&s.st[0])), &idx)
	return int(idx), int(rc)
}

func lowTestany(s *scratch) (int, bool, int) {
	h, k, _ := scratchArgs(s, false)
	var idx, flag C.int
	if len(s.h) == 0 {
		return Undefined, true, 0
	}
	rc := C.spmd_testany(C.int(len(s.h)), h, k, (*C.spmd_status)(unsafe.Pointer(&s.st[0])), &idx, &flag)
	return int(idx), flag != 0, int(rc)
}

// lowSome is Waitsome or Testsome; a Testsome goes on polling for up to
// spinNS nanoseconds, or until *stop is nonzero, while nothing completes.
func lowSome(test bool, s *scratch, want bool, spinNS int64, stop *uint32) (int, int) {
	if len(s.h) == 0 {
		return Undefined, 0
	}
	h, k, st := scratchArgs(s, want)
	t := C.int(0)
	if test {
		t = 1
	}
	var n C.int
	rc := C.spmd_some(t, C.int(len(s.h)), h, k, &n, (*C.int)(unsafe.Pointer(&s.idx[0])), st, C.int64_t(spinNS), (*C.uint32_t)(stop))
	return int(n), int(rc)
}

// lowColl runs collective op, blocking or not, with the arguments in a.
func lowColl(op collOp, nb bool, a *collArgs, c commH) (reqH, int) {
	sp, rp := a.s.p, a.r.p
	if a.inPlace {
		sp = inPlace
	}
	sn, rn := C.int(a.s.n), C.int(a.r.n)
	dt := dtypes[a.s.k] // send and receive buffers have the same element type
	blk := C.int(a.blk)
	o := ops[a.op]
	root := C.int(a.root)
	var r C.spmd_req
	if !nb {
		var rc C.int
		switch op {
		case cBarrier:
			rc = C.MPI_Barrier(c)
		case cBcast:
			rc = C.MPI_Bcast(rp, rn, dt, root, c)
		case cReduce:
			rc = C.MPI_Reduce(sp, rp, sn, dt, o, root, c)
		case cAllreduce:
			rc = C.MPI_Allreduce(sp, rp, sn, dt, o, c)
		case cGather:
			rc = C.MPI_Gather(sp, blk, dt, rp, blk, dt, root, c)
		case cGatherv:
			rc = C.MPI_Gatherv(sp, sn, dt, rp, cints(a.rc), cints(a.rd), dt, root, c)
		case cScatter:
			rc = C.MPI_Scatter(sp, blk, dt, rp, blk, dt, root, c)
		case cScatterv:
			rc = C.MPI_Scatterv(sp, cints(a.sc), cints(a.sd), dt, rp, rn, dt, root, c)
		case cAllgather:
			rc = C.MPI_Allgather(sp, blk, dt, rp, blk, dt, c)
		case cAllgatherv:
			rc = C.MPI_Allgatherv(sp, sn, dt, rp, cints(a.rc), cints(a.rd), dt, c)
		case cAlltoall:
			rc = C.MPI_Alltoall(sp, blk, dt, rp, blk, dt, c)
		case cAlltoallv:
			rc = C.MPI_Alltoallv(sp, cints(a.sc), cints(a.sd), dt, rp, cints(a.rc), cints(a.rd), dt, c)
		case cReduceScatterBlock:
			rc = C.MPI_Reduce_scatter_block(sp, rp, rn, dt, o, c)
		case cScan:
			rc = C.MPI_Scan(sp, rp, sn, dt, o, c)
		case cExscan:
			rc = C.MPI_Exscan(sp, rp, sn, dt, o, c)
		case cReduceScatter:
			rc = C.MPI_Reduce_scatter(sp, rp, cints(a.rc), dt, o, c)
		}
		return reqNull, int(rc)
	}
	switch op {
	case cBarrier:
		r = C.spmd_ibarrier(c)
	case cBcast:
		r = C.spmd_ibcast(rp, rn, dt, root, c)
	case cReduce:
		r = C.spmd_ireduce(sp, rp, sn, dt, o, root, c)
	case cAllreduce:
		r = C.spmd_iallreduce(sp, rp, sn, dt, o, c)
	case cGather:
		r = C.spmd_igather(sp, blk, rp, blk, dt, root, c)
	case cGatherv:
		r = C.spmd_igatherv(sp, sn, rp, cints(a.rc), cints(a.rd), dt, root, c)
	case cScatter:
		r = C.spmd_iscatter(sp, blk, rp, blk, dt, root, c)
	case cScatterv:
		r = C.spmd_iscatterv(sp, cints(a.sc), cints(a.sd), rp, rn, dt, root, c)
	case cAllgather:
		r = C.spmd_iallgather(sp, blk, rp, blk, dt, c)
	case cAllgatherv:
		r = C.spmd_iallgatherv(sp, sn, rp, cints(a.rc), cints(a.rd), dt, c)
	case cAlltoall:
		r = C.spmd_ialltoall(sp, blk, rp, blk, dt, c)
	case cAlltoallv:
		r = C.spmd_ialltoallv(sp, cints(a.sc), cints(a.sd), rp, cints(a.rc), cints(a.rd), dt, c)
	case cReduceScatterBlock:
		r = C.spmd_ireduce_scatter_block(sp, rp, rn, dt, o, c)
	case cScan:
		r = C.spmd_iscan(0, sp, rp, sn, dt, o, c)
	case cExscan:
		r = C.spmd_iscan(1, sp, rp, sn, dt, o, c)
	case cReduceScatter:
		r = C.spmd_ireduce_scatter(sp, rp, cints(a.rc), dt, o, c)
	}
	return r.req, int(r.rc)
}

func rawComm(h commH) uintptr    { return uintptr(C.spmd_comm_raw(h)) }
func rawDatatype(k kind) uintptr { return uintptr(C.spmd_datatype_raw(dtypes[k])) }
func rawOp(o Op) uintptr         { return uintptr(C.spmd_op_raw(ops[o])) }
