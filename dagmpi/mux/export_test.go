package mux

// CalibrationPair exports calibrationPair to the tests.
var CalibrationPair = calibrationPair

// TreeReaders exposes treeReaders.
var TreeReaders = treeReaders

// ParseBytes exposes parseBytes.
var ParseBytes = parseBytes

// SetShmFree replaces the free space of /dev/shm that auto sees, until the
// returned function restores it.
func SetShmFree(free uint64) (restore func()) {
	old := shmFree
	shmFree = func() (uint64, bool) { return free, true }
	return func() { shmFree = old }
}
