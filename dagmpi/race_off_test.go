//go:build !race

package dagmpi_test

// raceEnabled: the test binary runs under the race detector.
const raceEnabled = false
