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

// SetCPUs makes every rank of this process report the given CPUs (0 to
// n-1) as its affinity mask, or no mask at all when n < 0, until the
// returned function restores the real one.
func SetCPUs(n int) (restore func()) {
	old := affinityMask
	affinityMask = func() ([]uint64, bool) {
		if n < 0 {
			return nil, false
		}
		m := make([]uint64, maskWords)
		for i := 0; i < n; i++ {
			m[i/64] |= 1 << (i % 64)
		}
		return m, true
	}
	return func() { affinityMask = old }
}
