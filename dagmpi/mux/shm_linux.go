package mux

import "syscall"

// shmFree returns the free bytes of /dev/shm, where Open MPI maps the
// shared memory of one-sided windows, and whether it could tell.
func shmFree() (uint64, bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}
