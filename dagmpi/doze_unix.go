//go:build unix

package dagmpi

import (
	"syscall"
	"time"
)

// dozeSleep blocks the calling thread for about d with nanosleep, which,
// unlike a Go timer, does not round short sleeps up to a millisecond.
func dozeSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}
