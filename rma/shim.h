// shim.h: the only C in package rma.
//
// Handles cross the boundary as uintptr_t: the Go side holds windows,
// requests, communicators, datatypes and ops as integers (MPI_Win and
// MPI_Request are pointers in Open MPI and ints in MPICH; the casts below
// work for both). Buffers cross as uintptr_t too: the Go side pins every
// buffer MPI may touch after the call returns (window memory, origin and
// result buffers until the synchronisation that completes them), so cgo's
// per-call pointer check would buy nothing on the hot path.
//
// Every function is one crossing. Calls that need a temporary MPI object
// (the group of post and start) build and free it here.
#ifndef SPMD_RMA_SHIM_H
#define SPMD_RMA_SHIM_H

#include <mpi.h>
#include <stdint.h>

#define RMA_WIN(h) ((MPI_Win)(uintptr_t)(h))
#define RMA_COMM(h) ((MPI_Comm)(uintptr_t)(h))
#define RMA_DT(h) ((MPI_Datatype)(uintptr_t)(h))
#define RMA_OP(h) ((MPI_Op)(uintptr_t)(h))
#define RMA_REQ(h) ((MPI_Request)(uintptr_t)(h))

static inline uintptr_t rma_win_null(void) { return (uintptr_t)MPI_WIN_NULL; }
static inline uintptr_t rma_request_null(void) { return (uintptr_t)MPI_REQUEST_NULL; }

// Assertion modes, indexed like the Go Assert bits (sync.go).
static inline int rma_mode(int k) {
	switch (k) {
	case 0: return MPI_MODE_NOCHECK;
	case 1: return MPI_MODE_NOSTORE;
	case 2: return MPI_MODE_NOPUT;
	case 3: return MPI_MODE_NOPRECEDE;
	case 4: return MPI_MODE_NOSUCCEED;
	}
	return 0;
}

typedef struct {
	int rc;
	uintptr_t win;
	void *base; // MPI's memory, for allocated windows
} rma_win_ret;

// Window creation. Every window returns errors as values.
static inline void rma_errors_return(MPI_Win w) { MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN); }

// kind: 0 MPI_Win_allocate, 1 MPI_Win_allocate_shared.
static inline rma_win_ret rma_win_allocate(int kind, int64_t bytes, int unit, uintptr_t comm) {
	rma_win_ret r;
	void *base = NULL;
	MPI_Win w = MPI_WIN_NULL;
	if (kind == 1) r.rc = MPI_Win_allocate_shared((MPI_Aint)bytes, unit, MPI_INFO_NULL, RMA_COMM(comm), &base, &w);
	else r.rc = MPI_Win_allocate((MPI_Aint)bytes, unit, MPI_INFO_NULL, RMA_COMM(comm), &base, &w);
	if (r.rc == MPI_SUCCESS) rma_errors_return(w);
	r.win = (uintptr_t)w;
	r.base = base;
	return r;
}

static inline rma_win_ret rma_win_create(uintptr_t base, int64_t bytes, int unit, uintptr_t comm) {
	rma_win_ret r;
	MPI_Win w = MPI_WIN_NULL;
	r.rc = MPI_Win_create((void *)base, (MPI_Aint)bytes, unit, MPI_INFO_NULL, RMA_COMM(comm), &w);
	if (r.rc == MPI_SUCCESS) rma_errors_return(w);
	r.win = (uintptr_t)w;
	r.base = NULL;
	return r;
}

static inline rma_win_ret rma_win_create_dynamic(uintptr_t comm) {
	rma_win_ret r;
	MPI_Win w = MPI_WIN_NULL;
	r.rc = MPI_Win_create_dynamic(MPI_INFO_NULL, RMA_COMM(comm), &w);
	if (r.rc == MPI_SUCCESS) rma_errors_return(w);
	r.win = (uintptr_t)w;
	r.base = NULL;
	return r;
}

static inline int rma_win_free(uintptr_t win) {
	MPI_Win w = RMA_WIN(win);
	return MPI_Win_free(&w);
}

typedef struct {
	int rc;
	int unit;
	int64_t bytes;
	void *base;
} rma_shared_ret;

static inline rma_shared_ret rma_shared_query(uintptr_t win, int rank) {
	rma_shared_ret r;
	MPI_Aint size = 0;
	int unit = 0;
	void *base = NULL;
	r.rc = MPI_Win_shared_query(RMA_WIN(win), rank, &size, &unit, &base);
	r.bytes = (int64_t)size;
	r.unit = unit;
	r.base = base;
	return r;
}

typedef struct {
	int rc;
	int64_t addr;
} rma_addr_ret;

// Attach base to a dynamic window and return its address for the targets'
// displacements (MPI_Get_address).
static inline rma_addr_ret rma_win_attach(uintptr_t win, uintptr_t base, int64_t bytes) {
	rma_addr_ret r;
	MPI_Aint a = 0;
	r.rc = MPI_Win_attach(RMA_WIN(win), (void *)base, (MPI_Aint)bytes);
	if (r.rc == MPI_SUCCESS) r.rc = MPI_Get_address((const void *)base, &a);
	r.addr = (int64_t)a;
	return r;
}

static inline int rma_win_detach(uintptr_t win, uintptr_t base) {
	return MPI_Win_detach(RMA_WIN(win), (const void *)base);
}

// Communication. Origin and target use the same datatype and count.
static inline int rma_put(uintptr_t o, int n, uintptr_t dt, int target, int64_t disp, uintptr_t win) {
	return MPI_Put((const void *)o, n, RMA_DT(dt), target, (MPI_Aint)disp, n, RMA_DT(dt), RMA_WIN(win));
}

// rma_put_notify: put o (n elements) at disp and h (hn) at hdisp, flush to
// target, put f (fn) at fdisp, flush again. *step is set to the call that
// failed: 0 a put of data or head, 1 the first flush, 2 the flag's put, 3
// the second flush.
static inline int rma_put_notify(uintptr_t o, int n, int64_t disp, uintptr_t h, int hn, int64_t hdisp, uintptr_t f,
				 int fn, int64_t fdisp, uintptr_t dt, int target, uintptr_t win, int *step) {
	int rc;
	*step = 0;
	if (n > 0 && (rc = MPI_Put((const void *)o, n, RMA_DT(dt), target, (MPI_Aint)disp, n, RMA_DT(dt), RMA_WIN(win))))
		return rc;
	if (hn > 0 && (rc = MPI_Put((const void *)h, hn, RMA_DT(dt), target, (MPI_Aint)hdisp, hn, RMA_DT(dt), RMA_WIN(win))))
		return rc;
	*step = 1;
	if ((rc = MPI_Win_flush(target, RMA_WIN(win))))
		return rc;
	*step = 2;
	if ((rc = MPI_Put((const void *)f, fn, RMA_DT(dt), target, (MPI_Aint)fdisp, fn, RMA_DT(dt), RMA_WIN(win))))
		return rc;
	*step = 3;
	return MPI_Win_flush(target, RMA_WIN(win));
}

static inline int rma_get(uintptr_t o, int n, uintptr_t dt, int target, int64_t disp, uintptr_t win) {
	return MPI_Get((void *)o, n, RMA_DT(dt), target, (MPI_Aint)disp, n, RMA_DT(dt), RMA_WIN(win));
}

static inline int rma_accumulate(uintptr_t o, int n, uintptr_t dt, int target, int64_t disp, uintptr_t op,
				 uintptr_t win) {
	return MPI_Accumulate((const void *)o, n, RMA_DT(dt), target, (MPI_Aint)disp, n, RMA_DT(dt), RMA_OP(op),
			      RMA_WIN(win));
}

static inline int rma_get_accumulate(uintptr_t o, uintptr_t res, int n, uintptr_t dt, int target, int64_t disp,
				     uintptr_t op, uintptr_t win) {
	return MPI_Get_accumulate((const void *)o, n, RMA_DT(dt), (void *)res, n, RMA_DT(dt), target, (MPI_Aint)disp,
				  n, RMA_DT(dt), RMA_OP(op), RMA_WIN(win));
}

static inline int rma_fetch_and_op(uintptr_t o, uintptr_t res, uintptr_t dt, int target, int64_t disp,
				   uintptr_t op, uintptr_t win) {
	return MPI_Fetch_and_op((const void *)o, (void *)res, RMA_DT(dt), target, (MPI_Aint)disp, RMA_OP(op),
				RMA_WIN(win));
}

static inline int rma_compare_and_swap(uintptr_t o, uintptr_t cmp, uintptr_t res, uintptr_t dt, int target,
				       int64_t disp, uintptr_t win) {
	return MPI_Compare_and_swap((const void *)o, (const void *)cmp, (void *)res, RMA_DT(dt), target,
				    (MPI_Aint)disp, RMA_WIN(win));
}

typedef struct {
	int rc;
	uintptr_t req;
} rma_req_ret;

// Request-based operations. kind: 0 put, 1 get, 2 accumulate,
// 3 get-accumulate.
static inline rma_req_ret rma_rop(int kind, uintptr_t o, uintptr_t res, int n, uintptr_t dt, int target,
				  int64_t disp, uintptr_t op, uintptr_t win) {
	rma_req_ret r;
	MPI_Request q = MPI_REQUEST_NULL;
	MPI_Datatype d = RMA_DT(dt);
	switch (kind) {
	case 0: r.rc = MPI_Rput((const void *)o, n, d, target, (MPI_Aint)disp, n, d, RMA_WIN(win), &q); break;
	case 1: r.rc = MPI_Rget((void *)res, n, d, target, (MPI_Aint)disp, n, d, RMA_WIN(win), &q); break;
	case 2:
		r.rc = MPI_Raccumulate((const void *)o, n, d, target, (MPI_Aint)disp, n, d, RMA_OP(op), RMA_WIN(win),
				       &q);
		break;
	default:
		r.rc = MPI_Rget_accumulate((const void *)o, n, d, (void *)res, n, d, target, (MPI_Aint)disp, n, d,
					   RMA_OP(op), RMA_WIN(win), &q);
	}
	r.req = (uintptr_t)q;
	return r;
}

typedef struct {
	int rc;
	int flag;
	uintptr_t req;
} rma_done_ret;

static inline rma_done_ret rma_req_complete(uintptr_t req, int test) {
	rma_done_ret r;
	MPI_Request q = RMA_REQ(req);
	r.flag = 1;
	if (test) r.rc = MPI_Test(&q, &r.flag, MPI_STATUS_IGNORE);
	else r.rc = MPI_Wait(&q, MPI_STATUS_IGNORE);
	r.req = (uintptr_t)q;
	return r;
}

// Synchronisation.
static inline int rma_fence(int assert, uintptr_t win) { return MPI_Win_fence(assert, RMA_WIN(win)); }

// post (0) or start (1) an epoch with the group of the window's ranks listed.
static inline int rma_pscw_open(int start, int n, const int *ranks, int assert, uintptr_t win) {
	MPI_Group all, g;
	int rc = MPI_Win_get_group(RMA_WIN(win), &all);
	if (rc != MPI_SUCCESS) return rc;
	rc = MPI_Group_incl(all, n, ranks, &g);
	MPI_Group_free(&all);
	if (rc != MPI_SUCCESS) return rc;
	if (start) rc = MPI_Win_start(g, assert, RMA_WIN(win));
	else rc = MPI_Win_post(g, assert, RMA_WIN(win));
	MPI_Group_free(&g);
	return rc;
}

static inline int rma_complete(uintptr_t win) { return MPI_Win_complete(RMA_WIN(win)); }
static inline int rma_wait(uintptr_t win) { return MPI_Win_wait(RMA_WIN(win)); }

static inline rma_done_ret rma_test(uintptr_t win) {
	rma_done_ret r;
	r.flag = 0;
	r.rc = MPI_Win_test(RMA_WIN(win), &r.flag);
	r.req = 0;
	return r;
}

static inline int rma_lock(int exclusive, int rank, int assert, uintptr_t win) {
	return MPI_Win_lock(exclusive ? MPI_LOCK_EXCLUSIVE : MPI_LOCK_SHARED, rank, assert, RMA_WIN(win));
}

static inline int rma_unlock(int rank, uintptr_t win) { return MPI_Win_unlock(rank, RMA_WIN(win)); }
static inline int rma_lock_all(int assert, uintptr_t win) { return MPI_Win_lock_all(assert, RMA_WIN(win)); }
static inline int rma_unlock_all(uintptr_t win) { return MPI_Win_unlock_all(RMA_WIN(win)); }

// Flushes. kind: 0 flush, 1 flush-local, 2 flush-all, 3 flush-local-all,
// 4 sync (rank ignored for 2, 3, 4).
static inline int rma_flush(int kind, int rank, uintptr_t win) {
	switch (kind) {
	case 0: return MPI_Win_flush(rank, RMA_WIN(win));
	case 1: return MPI_Win_flush_local(rank, RMA_WIN(win));
	case 2: return MPI_Win_flush_all(RMA_WIN(win));
	case 3: return MPI_Win_flush_local_all(RMA_WIN(win));
	}
	return MPI_Win_sync(RMA_WIN(win));
}

#endif
