package mux

import (
	"syscall"
	"unsafe"
)

// affinityMaskSyscall returns the CPUs this process may run on
// (sched_getaffinity: CPU i is bit i%64 of word i/64, up to 1,024 CPUs),
// and whether it could tell.
func affinityMaskSyscall() ([]uint64, bool) {
	mask := make([]uint64, maskWords)
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0])))
	if e != 0 {
		return nil, false
	}
	return mask, true
}
