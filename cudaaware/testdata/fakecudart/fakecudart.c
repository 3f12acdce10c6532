// fakecudart.c: a stand-in for libcudart with the same C ABI for the
// functions package cudaaware uses, backed by host memory, so the
// dlopen/dlsym layer of the cuda build tag and the GPU tests can run on a
// machine without a GPU. It is a test fixture, not an emulator: copies are
// synchronous (so streams and events are trivially complete), and "device"
// memory is malloc'd host memory, which any MPI can read.
//
//	cc -shared -fPIC -o /tmp/libfakecudart.so cudaaware/testdata/fakecudart/fakecudart.c
//	SPMD_CUDART=/tmp/libfakecudart.so go test -tags cuda ./cudaaware
#include <stdlib.h>
#include <string.h>

typedef int cudaError_t;
enum { ok = 0, errInvalidValue = 1, errMemoryAllocation = 2, errInvalidDevice = 101 };

static int current = -1;
static int ndev = 1;

cudaError_t cudaGetDeviceCount(int *n) { *n = ndev; return ok; }
cudaError_t cudaSetDevice(int d) {
	if (d < 0 || d >= ndev) return errInvalidDevice;
	current = d;
	return ok;
}
cudaError_t cudaMalloc(void **p, size_t n) { *p = malloc(n); return *p ? ok : errMemoryAllocation; }
cudaError_t cudaFree(void *p) { free(p); return ok; }
cudaError_t cudaMallocHost(void **p, size_t n) { *p = malloc(n); return *p ? ok : errMemoryAllocation; }
cudaError_t cudaFreeHost(void *p) { free(p); return ok; }

static int token;
cudaError_t cudaStreamCreateWithFlags(void **s, unsigned int f) { (void)f; *s = &token; return ok; }
cudaError_t cudaStreamDestroy(void *s) { return s ? ok : errInvalidValue; }
cudaError_t cudaStreamSynchronize(void *s) { (void)s; return ok; }
cudaError_t cudaStreamWaitEvent(void *s, void *e, unsigned int f) { (void)s; (void)e; (void)f; return ok; }
cudaError_t cudaEventCreateWithFlags(void **e, unsigned int f) { (void)f; *e = &token; return ok; }
cudaError_t cudaEventDestroy(void *e) { return e ? ok : errInvalidValue; }
cudaError_t cudaEventRecord(void *e, void *s) { (void)e; (void)s; return ok; }
cudaError_t cudaEventSynchronize(void *e) { (void)e; return ok; }
cudaError_t cudaEventQuery(void *e) { (void)e; return ok; }
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, int kind, void *s) {
	(void)s;
	if (kind < 1 || kind > 3 || current < 0) return errInvalidValue;
	memmove(dst, src, n);
	return ok;
}
cudaError_t cudaDeviceSynchronize(void) { return ok; }
const char *cudaGetErrorName(cudaError_t e) {
	switch (e) {
	case ok: return "cudaSuccess";
	case errInvalidValue: return "cudaErrorInvalidValue";
	case errMemoryAllocation: return "cudaErrorMemoryAllocation";
	case errInvalidDevice: return "cudaErrorInvalidDevice";
	}
	return "cudaErrorUnknown";
}
const char *cudaGetErrorString(cudaError_t e) { return e == ok ? "no error" : "fake CUDA runtime error"; }
