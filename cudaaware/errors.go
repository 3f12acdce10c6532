package cudaaware

import (
	"errors"
	"fmt"
)

// ErrNoCUDA is the error, matched with errors.Is, of every call that needs
// the CUDA runtime when it cannot be had: the package was built without the
// cuda build tag or without cgo, libcudart could not be loaded, or it finds
// no device. The wrapping error says which.
var ErrNoCUDA = errors.New("cudaaware: CUDA is not available")

// EnvCUDART names the environment variable that, with the cuda build
// tag, gives the path of the CUDA runtime library to load instead of
// searching for libcudart.so, .so.12, .so.11.0 and .so.11.
const EnvCUDART = "SPMD_CUDART"

// ErrBusy is returned when a Pipeline is used by two transfers at once.
var ErrBusy = errors.New("cudaaware: pipeline is in use by another transfer")

// CUDAError is a failed CUDA runtime call: the call, the cudaError_t code
// and the runtime's name and description of it.
type CUDAError struct {
	Call string
	Code int
	Name string
	Msg  string
}

func (e *CUDAError) Error() string {
	return fmt.Sprintf("cudaaware: %s: %s (%d): %s", e.Call, e.Name, e.Code, e.Msg)
}

// errf returns an error "cudaaware: call: message".
func errf(call, format string, args ...any) error {
	return fmt.Errorf("cudaaware: %s: %s", call, fmt.Sprintf(format, args...))
}
