package blockcyclic

import "fmt"

// Panic messages for misuse (programming errors). Every message starts with
// "blockcyclic: " and is a constant, so a recovered value can be compared.
const (
	errBlockSize  = "blockcyclic: block size must be positive"
	errNumProcs   = "blockcyclic: number of processes must be positive"
	errProcRange  = "blockcyclic: process coordinate out of range"
	errNegLength  = "blockcyclic: negative length"
	errNegIndex   = "blockcyclic: negative index"
	errBlockRange = "blockcyclic: block index out of range"
	errRankRange  = "blockcyclic: rank out of range"
	errBadOrder   = "blockcyclic: unknown grid order"
	errBadAxis    = "blockcyclic: unknown axis"
	errLayerRange = "blockcyclic: layer out of range"
)

// DescError reports a descriptor that ScaLAPACK's DESCINIT would reject.
// Field is the descriptor entry at fault, spelled as in ScaLAPACK ("MB_",
// "LLD_"); Info is the INFO value DESCINIT would return (-2 for M_, -3 for
// N_, -4 for MB_, -5 for NB_, -6 for RSRC_, -7 for CSRC_, -8 for CTXT_,
// -9 for LLD_).
type DescError struct {
	Field  string
	Info   int
	Reason string // for example "MB_ = 0 must be positive"
}

func (e *DescError) Error() string {
	return fmt.Sprintf("blockcyclic: descinit: %s (INFO = %d)", e.Reason, e.Info)
}
