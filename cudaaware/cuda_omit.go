//go:build !cuda || !cgo

// Twin of cuda.go: same exported API, reporting that CUDA is absent.

package cudaaware

import "fmt"

// CUDACount returns the number of CUDA devices. Built without the cuda
// build tag (or without cgo) it returns an ErrNoCUDA error saying so.
func CUDACount() (int, error) {
	return 0, fmt.Errorf("%w: built without the cuda build tag (go build -tags cuda) or without cgo", ErrNoCUDA)
}

// CUDA returns GPU ordinal. Built without the cuda build tag (or without
// cgo) it returns an ErrNoCUDA error saying so.
func CUDA(ordinal int) (Device, error) {
	_, err := CUDACount()
	return nil, err
}
