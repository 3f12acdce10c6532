//go:build !linux

package mux

// affinityMaskSyscall cannot tell the CPUs on this system.
func affinityMaskSyscall() ([]uint64, bool) { return nil, false }
