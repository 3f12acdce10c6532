package mux

import "syscall"

// shmFreeStatfs returns the free bytes of /dev/shm and whether it could
// tell.
func shmFreeStatfs() (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}
