//go:build !linux

package mux

// shmFreeStatfs cannot tell the free shared memory on this system.
func shmFreeStatfs() (uint64, bool) { return 0, false }
