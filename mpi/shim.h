// shim.h: the only C in package mpi.
//
// Handles and predefined objects are macros in mpi.h (addresses of globals in
// Open MPI, integers in MPICH), which cgo cannot always evaluate, so every
// predefined handle is re-exported through a tiny static function. Calls that
// would otherwise cross from Go into C several times (a receive and its
// MPI_Get_count, a Waitall and the decoding of its statuses) are batched into
// one function so the hot path costs one cgo crossing.
//
// Statuses are returned by value as spmd_status so no Go pointer has to be
// passed (which would make the Go value escape to the heap).
#ifndef SPMD_MPI_SHIM_H
#define SPMD_MPI_SHIM_H

#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
	int rc;        // return code of the call
	int source;    // MPI_SOURCE
	int tag;       // MPI_TAG
	int err;       // MPI_ERROR
	int count;     // elements of the call's datatype, or -1 (MPI_UNDEFINED)
	int cancelled; // MPI_Test_cancelled
} spmd_status;

// Predefined handles.
static inline MPI_Comm spmd_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Comm spmd_comm_self(void) { return MPI_COMM_SELF; }
static inline MPI_Comm spmd_comm_null(void) { return MPI_COMM_NULL; }
static inline MPI_Group spmd_group_null(void) { return MPI_GROUP_NULL; }
static inline MPI_Group spmd_group_empty(void) { return MPI_GROUP_EMPTY; }
static inline MPI_Request spmd_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Message spmd_message_null(void) { return MPI_MESSAGE_NULL; }
static inline MPI_Message spmd_message_no_proc(void) { return MPI_MESSAGE_NO_PROC; }
static inline void *spmd_in_place(void) { return MPI_IN_PLACE; }

// Datatypes, indexed like the Go kind enum (types.go); keep in sync.
static inline MPI_Datatype spmd_datatype(int k) {
	switch (k) {
	case 0: return MPI_BYTE;
	case 1: return MPI_INT8_T;
	case 2: return MPI_INT16_T;
	case 3: return MPI_INT32_T;
	case 4: return MPI_INT64_T;
	case 5: return MPI_UINT8_T;
	case 6: return MPI_UINT16_T;
	case 7: return MPI_UINT32_T;
	case 8: return MPI_UINT64_T;
	case 9: return MPI_FLOAT;
	case 10: return MPI_DOUBLE;
	case 11: return MPI_C_FLOAT_COMPLEX;
	case 12: return MPI_C_DOUBLE_COMPLEX;
	case 13: return MPI_C_BOOL;
	case 14: return MPI_FLOAT_INT;
	case 15: return MPI_DOUBLE_INT;
	case 16: return MPI_2INT;
	case 17: return MPI_LONG_INT;
	}
	return MPI_DATATYPE_NULL;
}

// Reduction operations, indexed like the Go Op constants (coll.go).
static inline MPI_Op spmd_op(int k) {
	switch (k) {
	case 0: return MPI_SUM;
	case 1: return MPI_PROD;
	case 2: return MPI_MAX;
	case 3: return MPI_MIN;
	case 4: return MPI_LAND;
	case 5: return MPI_LOR;
	case 6: return MPI_LXOR;
	case 7: return MPI_BAND;
	case 8: return MPI_BOR;
	case 9: return MPI_BXOR;
	case 10: return MPI_MAXLOC;
	case 11: return MPI_MINLOC;
	case 12: return MPI_REPLACE;
	case 13: return MPI_NO_OP;
	}
	return MPI_OP_NULL;
}

// Constants that are macros.
static inline int spmd_any_source(void) { return MPI_ANY_SOURCE; }
static inline int spmd_any_tag(void) { return MPI_ANY_TAG; }
static inline int spmd_proc_null(void) { return MPI_PROC_NULL; }
static inline int spmd_undefined(void) { return MPI_UNDEFINED; }
static inline int spmd_success(void) { return MPI_SUCCESS; }
static inline int spmd_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
static inline int spmd_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int spmd_max_library_version_string(void) { return MPI_MAX_LIBRARY_VERSION_STRING; }
static inline int spmd_thread_level(int k) {
	switch (k) {
	case 0: return MPI_THREAD_SINGLE;
	case 1: return MPI_THREAD_FUNNELED;
	case 2: return MPI_THREAD_SERIALIZED;
	case 3: return MPI_THREAD_MULTIPLE;
	}
	return -1;
}
static inline int spmd_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
static inline int spmd_compare_result(int k) {
	switch (k) {
	case 0: return MPI_IDENT;
	case 1: return MPI_CONGRUENT;
	case 2: return MPI_SIMILAR;
	case 3: return MPI_UNEQUAL;
	}
	return -1;
}

// Error classes, indexed like the Go errClass constants (errors.go).
static inline int spmd_err_class(int k) {
	switch (k) {
	case 0: return MPI_SUCCESS;
	case 1: return MPI_ERR_BUFFER;
	case 2: return MPI_ERR_COUNT;
	case 3: return MPI_ERR_TYPE;
	case 4: return MPI_ERR_TAG;
	case 5: return MPI_ERR_COMM;
	case 6: return MPI_ERR_RANK;
	case 7: return MPI_ERR_REQUEST;
	case 8: return MPI_ERR_ROOT;
	case 9: return MPI_ERR_GROUP;
	case 10: return MPI_ERR_OP;
	case 11: return MPI_ERR_TOPOLOGY;
	case 12: return MPI_ERR_DIMS;
	case 13: return MPI_ERR_ARG;
	case 14: return MPI_ERR_UNKNOWN;
	case 15: return MPI_ERR_TRUNCATE;
	case 16: return MPI_ERR_OTHER;
	case 17: return MPI_ERR_INTERN;
	case 18: return MPI_ERR_IN_STATUS;
	case 19: return MPI_ERR_PENDING;
	case 20: return MPI_ERR_WIN;
	case 21: return MPI_ERR_DISP;
	case 22: return MPI_ERR_RMA_SYNC;
	case 23: return MPI_ERR_RMA_RANGE;
	case 24: return MPI_ERR_RMA_CONFLICT;
	case 25: return MPI_ERR_SIZE;
	case 26: return MPI_ERR_NO_MEM;
	case 27: return MPI_ERR_BASE;
	case 28: return MPI_ERR_LOCKTYPE;
	case 29: return MPI_ERR_ASSERT;
	case 30: return MPI_ERR_RMA_ATTACH;
	case 31: return MPI_ERR_RMA_SHARED;
	case 32: return MPI_ERR_LASTCODE;
	}
	return -1;
}

static inline void spmd_decode_c(spmd_status *out, int rc, MPI_Status *st, MPI_Datatype dt, int want_cancelled) {
	out->rc = rc;
	out->source = st->MPI_SOURCE;
	out->tag = st->MPI_TAG;
	out->err = st->MPI_ERROR;
	int n = 0;
	if (dt != MPI_DATATYPE_NULL && MPI_Get_count(st, dt, &n) == MPI_SUCCESS && n != MPI_UNDEFINED) {
		out->count = n;
	} else {
		out->count = -1;
	}
	int c = 0;
	if (want_cancelled) MPI_Test_cancelled(st, &c);
	out->cancelled = c;
}

static inline void spmd_decode(spmd_status *out, int rc, MPI_Status *st, MPI_Datatype dt) {
	spmd_decode_c(out, rc, st, dt, 1);
}

static inline int spmd_init(int required, int *provided) {
	int flag = 0;
	MPI_Initialized(&flag);
	if (flag) {
		return MPI_Query_thread(provided);
	}
	int rc = MPI_Init_thread(NULL, NULL, required, provided);
	if (rc != MPI_SUCCESS) {
		return rc;
	}
	// Errors are values: every communicator returns error codes. Dup and
	// Split inherit the handler, so world and self are enough.
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
	return MPI_SUCCESS;
}

static inline int spmd_tag_ub(MPI_Comm c) {
	void *v = NULL;
	int flag = 0;
	if (MPI_Comm_get_attr(c, MPI_TAG_UB, &v, &flag) != MPI_SUCCESS || !flag) {
		return 32767; // the standard's guaranteed minimum
	}
	return *(int *)v;
}

// One crossing for a blocking receive: the call and its count.
// The hot-path functions take buffers as uintptr_t: the Go side keeps the
// buffer alive across the call (runtime.KeepAlive) and the element types hold
// no Go pointers, so cgo's per-call pointer check would buy nothing.
static inline spmd_status spmd_recv(uintptr_t buf, int n, MPI_Datatype dt, int src, int tag, MPI_Comm c) {
	MPI_Status st;
	spmd_status out;
	int rc = MPI_Recv((void *)buf, n, dt, src, tag, c, &st);
	spmd_decode_c(&out, rc, &st, dt, 0); // a blocking receive cannot be cancelled
	return out;
}

static inline spmd_status spmd_sendrecv(const void *sbuf, int sn, MPI_Datatype sdt, int dest, int stag,
					void *rbuf, int rn, MPI_Datatype rdt, int src, int rtag, MPI_Comm c) {
	MPI_Status st;
	spmd_status out;
	int rc = MPI_Sendrecv(sbuf, sn, sdt, dest, stag, rbuf, rn, rdt, src, rtag, c, &st);
	spmd_decode(&out, rc, &st, rdt);
	return out;
}

static inline spmd_status spmd_sendrecv_replace(void *buf, int n, MPI_Datatype dt, int dest, int stag, int src,
						int rtag, MPI_Comm c) {
	MPI_Status st;
	spmd_status out;
	int rc = MPI_Sendrecv_replace(buf, n, dt, dest, stag, src, rtag, c, &st);
	spmd_decode(&out, rc, &st, dt);
	return out;
}

// Nonblocking calls return the request handle by value together with the
// return code, so no Go memory is handed to C for it.
typedef struct {
	int rc;
	MPI_Request req;
} spmd_req;

typedef enum { SPMD_STD = 0, SPMD_SYNC = 1, SPMD_READY = 2, SPMD_BUFFERED = 3 } spmd_mode;

static inline int spmd_send(int mode, uintptr_t buf, int n, MPI_Datatype dt, int dest, int tag, MPI_Comm c) {
	if (mode == SPMD_SYNC) return MPI_Ssend((const void *)buf, n, dt, dest, tag, c);
	return MPI_Send((const void *)buf, n, dt, dest, tag, c);
}

static inline spmd_req spmd_isend(int mode, uintptr_t buf, int n, MPI_Datatype dt, int dest, int tag, MPI_Comm c) {
	spmd_req r;
	if (mode == SPMD_SYNC) r.rc = MPI_Issend((const void *)buf, n, dt, dest, tag, c, &r.req);
	else r.rc = MPI_Isend((const void *)buf, n, dt, dest, tag, c, &r.req);
	return r;
}

// Memory from the library (MPI_Alloc_mem, MPI_Free_mem).
typedef struct {
	int rc;
	void *p;
} spmd_mem;

static inline spmd_mem spmd_alloc_mem(int64_t n) {
	spmd_mem m;
	m.p = NULL;
	m.rc = MPI_Alloc_mem((MPI_Aint)n, MPI_INFO_NULL, &m.p);
	return m;
}

static inline int spmd_free_mem(uintptr_t p) { return MPI_Free_mem((void *)p); }

// isend_test: MPI_Isend, then MPI_Test of the new request; done reports a
// send the library finished at once (an eager message), whose request is
// then MPI_REQUEST_NULL.
typedef struct {
	int rc;
	int done;
	MPI_Request req;
} spmd_sreq;

static inline spmd_sreq spmd_isend_test(uintptr_t buf, int n, MPI_Datatype dt, int dest, int tag, MPI_Comm c) {
	spmd_sreq r;
	r.done = 0;
	r.rc = MPI_Isend((const void *)buf, n, dt, dest, tag, c, &r.req);
	if (r.rc == MPI_SUCCESS) r.rc = MPI_Test(&r.req, &r.done, MPI_STATUS_IGNORE);
	return r;
}

static inline spmd_req spmd_irecv(uintptr_t buf, int n, MPI_Datatype dt, int src, int tag, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Irecv((void *)buf, n, dt, src, tag, c, &r.req);
	return r;
}

static inline spmd_req spmd_send_init(int mode, const void *buf, int n, MPI_Datatype dt, int dest, int tag, MPI_Comm c) {
	spmd_req r;
	if (mode == SPMD_SYNC) r.rc = MPI_Ssend_init(buf, n, dt, dest, tag, c, &r.req);
	else r.rc = MPI_Send_init(buf, n, dt, dest, tag, c, &r.req);
	return r;
}

static inline spmd_req spmd_recv_init(void *buf, int n, MPI_Datatype dt, int src, int tag, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Recv_init(buf, n, dt, src, tag, c, &r.req);
	return r;
}

// Completion of a single request. The handle is passed by value and the
// updated handle (MPI_REQUEST_NULL, or the inactive persistent request) is
// returned.
typedef struct {
	spmd_status st;
	MPI_Request req;
	int flag;
} spmd_done;

static inline spmd_done spmd_wait(MPI_Request r, MPI_Datatype dt) {
	MPI_Status st;
	spmd_done d;
	int rc = MPI_Wait(&r, &st);
	spmd_decode(&d.st, rc, &st, dt);
	d.req = r;
	d.flag = 1;
	return d;
}

static inline spmd_done spmd_test(MPI_Request r, MPI_Datatype dt) {
	MPI_Status st;
	spmd_done d;
	int flag = 0;
	int rc = MPI_Test(&r, &flag, &st);
	d.flag = flag;
	if (flag || rc != MPI_SUCCESS) {
		spmd_decode(&d.st, rc, &st, dt);
	} else {
		memset(&d.st, 0, sizeof d.st);
	}
	d.req = r;
	return d;
}

static inline int spmd_start(MPI_Request r) { return MPI_Start(&r); }
static inline int spmd_cancel(MPI_Request r) { return MPI_Cancel(&r); }
static inline spmd_req spmd_request_free(MPI_Request r) {
	spmd_req out;
	out.rc = MPI_Request_free(&r);
	out.req = r;
	return out;
}

// Multiple completion: reqs and dts are arrays of n; out receives n decoded
// statuses (indexed like reqs) when non-NULL. Statuses live on the C stack
// for small n and in malloc'd memory otherwise.
#define SPMD_STACK_STATUSES 128

static inline MPI_Status *spmd_statuses(int n, MPI_Status *stackbuf) {
	if (n <= SPMD_STACK_STATUSES) return stackbuf;
	return (MPI_Status *)malloc(sizeof(MPI_Status) * (size_t)n);
}

static inline void spmd_statuses_free(MPI_Status *st, MPI_Status *stackbuf) {
	if (st != stackbuf) free(st);
}

static inline int spmd_waitall(int n, MPI_Request *reqs, const unsigned char *kinds, spmd_status *out) {
	if (out == NULL) return MPI_Waitall(n, reqs, MPI_STATUSES_IGNORE);
	MPI_Status sb[SPMD_STACK_STATUSES];
	MPI_Status *st = spmd_statuses(n, sb);
	if (st == NULL) return MPI_ERR_NO_MEM;
	int rc = MPI_Waitall(n, reqs, st);
	if (out) {
		for (int i = 0; i < n; i++) {
			spmd_decode(&out[i], rc == MPI_ERR_IN_STATUS ? st[i].MPI_ERROR : MPI_SUCCESS, &st[i], spmd_datatype(kinds[i]));
		}
	}
	spmd_statuses_free(st, sb);
	return rc;
}

static inline int spmd_testall(int n, MPI_Request *reqs, const unsigned char *kinds, spmd_status *out, int *flag) {
	if (out == NULL) return MPI_Testall(n, reqs, flag, MPI_STATUSES_IGNORE);
	MPI_Status sb[SPMD_STACK_STATUSES];
	MPI_Status *st = spmd_statuses(n, sb);
	if (st == NULL) return MPI_ERR_NO_MEM;
	int rc = MPI_Testall(n, reqs, flag, st);
	if (out && (*flag || rc != MPI_SUCCESS)) {
		for (int i = 0; i < n; i++) {
			spmd_decode(&out[i], rc == MPI_ERR_IN_STATUS ? st[i].MPI_ERROR : MPI_SUCCESS, &st[i], spmd_datatype(kinds[i]));
		}
	}
	spmd_statuses_free(st, sb);
	return rc;
}

static inline int spmd_waitany(int n, MPI_Request *reqs, const unsigned char *kinds, spmd_status *out, int *index) {
	MPI_Status st;
	int rc = MPI_Waitany(n, reqs, index, &st);
	if (*index >= 0 && *index != MPI_UNDEFINED) {
		spmd_decode(out, rc, &st, spmd_datatype(kinds[*index]));
	}
	return rc;
}

static inline int spmd_testany(int n, MPI_Request *reqs, const unsigned char *kinds, spmd_status *out, int *index, int *flag) {
	MPI_Status st;
	int rc = MPI_Testany(n, reqs, index, flag, &st);
	if (*flag && *index >= 0 && *index != MPI_UNDEFINED) {
		spmd_decode(out, rc, &st, spmd_datatype(kinds[*index]));
	}
	return rc;
}

// testsome is MPI_Testsome, asked a second time when the first call found
// nothing: Open MPI's Testsome scans the requests first and runs the
// progress engine only when none is complete, so a message that engine
// delivers is otherwise seen one call later (in a polling loop, one whole
// poll of latency). With spin_ns > 0 it goes on asking while nothing has
// completed, for up to spin_ns nanoseconds or until *stop (when stop is not
// NULL) becomes nonzero.
static inline int spmd_testsome(int n, MPI_Request *reqs, int *outcount, int *indices, MPI_Status *st, int64_t spin_ns,
				const uint32_t *stop) {
	int rc = MPI_Testsome(n, reqs, outcount, indices, st);
	if (rc != MPI_SUCCESS || *outcount != 0) return rc;
	rc = MPI_Testsome(n, reqs, outcount, indices, st);
	if (spin_ns <= 0) return rc;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned i = 1; rc == MPI_SUCCESS && *outcount == 0; i++) {
		if (stop != NULL && __atomic_load_n(stop, __ATOMIC_ACQUIRE) != 0) break;
		if (i % 4 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((int64_t)(t.tv_sec - t0.tv_sec) * 1000000000 + (t.tv_nsec - t0.tv_nsec) >= spin_ns) break;
		}
		rc = MPI_Testsome(n, reqs, outcount, indices, st);
	}
	return rc;
}

// some: 0 for Waitsome, 1 for Testsome (spinning as spmd_testsome). out is
// indexed like indices.
static inline int spmd_some(int test, int n, MPI_Request *reqs, const unsigned char *kinds, int *outcount, int *indices,
			    spmd_status *out, int64_t spin_ns, const uint32_t *stop) {
	if (out == NULL) {
		return test ? spmd_testsome(n, reqs, outcount, indices, MPI_STATUSES_IGNORE, spin_ns, stop)
			    : MPI_Waitsome(n, reqs, outcount, indices, MPI_STATUSES_IGNORE);
	}
	MPI_Status sb[SPMD_STACK_STATUSES];
	MPI_Status *st = spmd_statuses(n, sb);
	if (st == NULL) return MPI_ERR_NO_MEM;
	int rc = test ? spmd_testsome(n, reqs, outcount, indices, st, spin_ns, stop)
		      : MPI_Waitsome(n, reqs, outcount, indices, st);
	if (out && *outcount != MPI_UNDEFINED) {
		for (int i = 0; i < *outcount; i++) {
			spmd_decode(&out[i], rc == MPI_ERR_IN_STATUS ? st[i].MPI_ERROR : MPI_SUCCESS, &st[i],
				    spmd_datatype(kinds[indices[i]]));
		}
	}
	spmd_statuses_free(st, sb);
	return rc;
}

// Probes.
static inline spmd_status spmd_probe(int src, int tag, MPI_Comm c) {
	MPI_Status st;
	spmd_status out;
	int rc = MPI_Probe(src, tag, c, &st);
	spmd_decode(&out, rc, &st, MPI_BYTE);
	return out;
}

static inline spmd_done spmd_iprobe(int src, int tag, MPI_Comm c) {
	MPI_Status st;
	spmd_done d;
	int flag = 0;
	int rc = MPI_Iprobe(src, tag, c, &flag, &st);
	d.flag = flag;
	if (flag) spmd_decode(&d.st, rc, &st, MPI_BYTE);
	else { memset(&d.st, 0, sizeof d.st); d.st.rc = rc; }
	d.req = MPI_REQUEST_NULL;
	return d;
}

typedef struct {
	spmd_status st;
	MPI_Message msg;
	int flag;
} spmd_mprobe_ret;

static inline spmd_mprobe_ret spmd_mprobe(int block, int src, int tag, MPI_Comm c) {
	MPI_Status st;
	spmd_mprobe_ret r;
	int rc;
	r.flag = 1;
	r.msg = MPI_MESSAGE_NULL;
	if (block) rc = MPI_Mprobe(src, tag, c, &r.msg, &st);
	else rc = MPI_Improbe(src, tag, c, &r.flag, &r.msg, &st);
	if (r.flag) spmd_decode(&r.st, rc, &st, MPI_BYTE);
	else { memset(&r.st, 0, sizeof r.st); r.st.rc = rc; }
	return r;
}

static inline spmd_status spmd_mrecv(void *buf, int n, MPI_Datatype dt, MPI_Message m) {
	MPI_Status st;
	spmd_status out;
	int rc = MPI_Mrecv(buf, n, dt, &m, &st);
	spmd_decode(&out, rc, &st, dt);
	return out;
}

// Communicator constructors return the new handle by value.
typedef struct {
	int rc;
	MPI_Comm comm;
} spmd_comm_ret;

static inline spmd_comm_ret spmd_comm_dup(MPI_Comm c) {
	spmd_comm_ret r;
	r.rc = MPI_Comm_dup(c, &r.comm);
	return r;
}

static inline spmd_comm_ret spmd_comm_split(MPI_Comm c, int color, int key) {
	spmd_comm_ret r;
	r.rc = MPI_Comm_split(c, color, key, &r.comm);
	return r;
}

static inline spmd_comm_ret spmd_comm_split_type(MPI_Comm c, int type, int key) {
	spmd_comm_ret r;
	r.rc = MPI_Comm_split_type(c, type, key, MPI_INFO_NULL, &r.comm);
	return r;
}

static inline spmd_comm_ret spmd_comm_create(MPI_Comm c, MPI_Group g) {
	spmd_comm_ret r;
	r.rc = MPI_Comm_create(c, g, &r.comm);
	return r;
}

static inline spmd_comm_ret spmd_comm_create_group(MPI_Comm c, MPI_Group g, int tag) {
	spmd_comm_ret r;
	r.rc = MPI_Comm_create_group(c, g, tag, &r.comm);
	return r;
}

static inline spmd_comm_ret spmd_cart_create(MPI_Comm c, int ndims, const int *dims, const int *periods, int reorder) {
	spmd_comm_ret r;
	r.rc = MPI_Cart_create(c, ndims, dims, periods, reorder, &r.comm);
	return r;
}

static inline spmd_comm_ret spmd_cart_sub(MPI_Comm c, const int *remain) {
	spmd_comm_ret r;
	r.rc = MPI_Cart_sub(c, remain, &r.comm);
	return r;
}

static inline int spmd_comm_free(MPI_Comm c) { return MPI_Comm_free(&c); }

typedef struct {
	int rc;
	MPI_Group group;
} spmd_group_ret;

static inline spmd_group_ret spmd_comm_group(MPI_Comm c) {
	spmd_group_ret r;
	r.rc = MPI_Comm_group(c, &r.group);
	return r;
}

static inline spmd_group_ret spmd_group_incl(MPI_Group g, int n, const int *ranks) {
	spmd_group_ret r;
	r.rc = MPI_Group_incl(g, n, ranks, &r.group);
	return r;
}

static inline spmd_group_ret spmd_group_excl(MPI_Group g, int n, const int *ranks) {
	spmd_group_ret r;
	r.rc = MPI_Group_excl(g, n, ranks, &r.group);
	return r;
}

static inline int spmd_group_free(MPI_Group g) { return MPI_Group_free(&g); }

// Nonblocking collectives.
static inline spmd_req spmd_ibarrier(MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Ibarrier(c, &r.req);
	return r;
}
static inline spmd_req spmd_ibcast(void *buf, int n, MPI_Datatype dt, int root, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Ibcast(buf, n, dt, root, c, &r.req);
	return r;
}
static inline spmd_req spmd_ireduce(const void *s, void *rv, int n, MPI_Datatype dt, MPI_Op op, int root, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Ireduce(s, rv, n, dt, op, root, c, &r.req);
	return r;
}
static inline spmd_req spmd_iallreduce(const void *s, void *rv, int n, MPI_Datatype dt, MPI_Op op, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Iallreduce(s, rv, n, dt, op, c, &r.req);
	return r;
}
static inline spmd_req spmd_igather(const void *s, int sn, void *rv, int rn, MPI_Datatype dt, int root, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Igather(s, sn, dt, rv, rn, dt, root, c, &r.req);
	return r;
}
static inline spmd_req spmd_igatherv(const void *s, int sn, void *rv, const int *rc_, const int *dp, MPI_Datatype dt,
				     int root, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Igatherv(s, sn, dt, rv, rc_, dp, dt, root, c, &r.req);
	return r;
}
static inline spmd_req spmd_iscatter(const void *s, int sn, void *rv, int rn, MPI_Datatype dt, int root, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Iscatter(s, sn, dt, rv, rn, dt, root, c, &r.req);
	return r;
}
static inline spmd_req spmd_iscatterv(const void *s, const int *sc, const int *dp, void *rv, int rn, MPI_Datatype dt,
				      int root, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Iscatterv(s, sc, dp, dt, rv, rn, dt, root, c, &r.req);
	return r;
}
static inline spmd_req spmd_iallgather(const void *s, int sn, void *rv, int rn, MPI_Datatype dt, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Iallgather(s, sn, dt, rv, rn, dt, c, &r.req);
	return r;
}
static inline spmd_req spmd_iallgatherv(const void *s, int sn, void *rv, const int *rc_, const int *dp, MPI_Datatype dt,
					MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Iallgatherv(s, sn, dt, rv, rc_, dp, dt, c, &r.req);
	return r;
}
static inline spmd_req spmd_ialltoall(const void *s, int sn, void *rv, int rn, MPI_Datatype dt, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Ialltoall(s, sn, dt, rv, rn, dt, c, &r.req);
	return r;
}
static inline spmd_req spmd_ialltoallv(const void *s, const int *sc, const int *sd, void *rv, const int *rc_,
				       const int *rd, MPI_Datatype dt, MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Ialltoallv(s, sc, sd, dt, rv, rc_, rd, dt, c, &r.req);
	return r;
}
static inline spmd_req spmd_ireduce_scatter_block(const void *s, void *rv, int n, MPI_Datatype dt, MPI_Op op,
						  MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Ireduce_scatter_block(s, rv, n, dt, op, c, &r.req);
	return r;
}
static inline spmd_req spmd_ireduce_scatter(const void *s, void *rv, const int *counts, MPI_Datatype dt, MPI_Op op,
					    MPI_Comm c) {
	spmd_req r;
	r.rc = MPI_Ireduce_scatter(s, rv, counts, dt, op, c, &r.req);
	return r;
}
static inline spmd_req spmd_iscan(int ex, const void *s, void *rv, int n, MPI_Datatype dt, MPI_Op op, MPI_Comm c) {
	spmd_req r;
	if (ex) r.rc = MPI_Iexscan(s, rv, n, dt, op, c, &r.req);
	else r.rc = MPI_Iscan(s, rv, n, dt, op, c, &r.req);
	return r;
}

// Handles as integers for other cgo packages (mpi/raw.go).
static inline uintptr_t spmd_comm_raw(MPI_Comm c) { return (uintptr_t)c; }
static inline uintptr_t spmd_datatype_raw(MPI_Datatype d) { return (uintptr_t)d; }
static inline uintptr_t spmd_op_raw(MPI_Op o) { return (uintptr_t)o; }

static inline int spmd_error_string(int code, char *buf) {
	int n = 0;
	if (MPI_Error_string(code, buf, &n) != MPI_SUCCESS) return 0;
	return n;
}

static inline int spmd_error_class(int code) {
	int cls = 0;
	if (MPI_Error_class(code, &cls) != MPI_SUCCESS) return code;
	return cls;
}

#endif
