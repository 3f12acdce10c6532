//go:build !linux

package collective

import "runtime"

// osYield yields to other goroutines (the linux twin, yield_linux.go, also
// yields the thread).
func osYield() { runtime.Gosched() }
