package scalapack

import (
	"errors"
	"fmt"
)

// ErrNotBuilt is returned by every function of a build without the
// scalapack tag and cgo.
var ErrNotBuilt = errors.New("scalapack: not built: rebuild with -tags scalapack and cgo (Debian: libscalapack-openmpi-dev)")

// ArgError reports an illegal argument found by ScaLAPACK (INFO < 0) or by
// the Go checks before the call.
type ArgError struct {
	Routine string // for example "PDPOTRF"
	Info    int    // ScaLAPACK's INFO, or 0 for a check made in Go
	Reason  string
}

func (e *ArgError) Error() string {
	if e.Info != 0 {
		return fmt.Sprintf("scalapack: %s: %s (INFO = %d)", e.Routine, e.Reason, e.Info)
	}
	return fmt.Sprintf("scalapack: %s: %s", e.Routine, e.Reason)
}

// infoErr turns a negative INFO into an *ArgError naming the argument as
// ScaLAPACK numbers it.
func infoErr(routine string, info int) error {
	if info >= 0 {
		return nil
	}
	r := fmt.Sprintf("argument %d is illegal", -info)
	if -info >= 100 {
		r = fmt.Sprintf("entry %d of descriptor argument %d is illegal", -info%100, -info/100)
	}
	return &ArgError{Routine: routine, Info: info, Reason: r}
}
