//go:build !unix

package dagmpi

import "time"

// dozeSleep sleeps about d (see doze_unix.go, its twin).
func dozeSleep(d time.Duration) { time.Sleep(d) }
