//go:build cgo

package cudaaware

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>

typedef struct { int found, value; } spmd_mpix_ret;

// The symbol is looked up in the process's global scope, where the MPI
// library package mpi links is loaded: no MPI header or link flag here.
static spmd_mpix_ret spmd_query_cuda_support(void) {
	spmd_mpix_ret r = {0, 0};
	int (*f)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "MPIX_Query_cuda_support");
	if (f != NULL) {
		r.found = 1;
		r.value = f();
	}
	return r;
}
*/
import "C"

// queryMPIX calls MPIX_Query_cuda_support if the MPI library has it.
func queryMPIX() (found bool, value int, why string) {
	r := C.spmd_query_cuda_support()
	if r.found == 0 {
		return false, 0, "the MPI library has no MPIX_Query_cuda_support"
	}
	return true, int(r.value), ""
}
