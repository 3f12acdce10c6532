package lademo

// LastSplit returns the time split and bytes sent recorded by the last
// Env.Time call, so that a program timing two runs (the cholesky demo's
// -dist both) can report the first one's next to the second.
func (e *Env) LastSplit() Split { return e.split }
