//go:build !cgo

package cudaaware

// queryMPIX: without cgo there is no MPI library to ask. Twin of
// detect_cgo.go.
func queryMPIX() (found bool, value int, why string) {
	return false, 0, "built without cgo"
}
