package cudaaware

import (
	"fmt"
	"os"
	"strconv"
)

// EnvAware is the environment variable that overrides the detection of a
// CUDA-aware MPI: 1 (or true) says the MPI library reads and writes device
// memory, 0 (or false) says it does not. Set it for the whole job (Open
// MPI: mpirun -x SPMD_CUDA_AWARE=1) so every rank chooses the same path.
const EnvAware = "SPMD_CUDA_AWARE"

// Support is the answer to "can MPI read and write device memory?".
type Support struct {
	// Aware reports that device pointers may be handed to MPI.
	Aware bool
	// Source says how the answer was found, for logs and messages.
	Source string
}

func (s Support) String() string {
	if s.Aware {
		return "CUDA-aware MPI (" + s.Source + ")"
	}
	return "MPI not CUDA-aware (" + s.Source + ")"
}

// MPISupport reports whether the MPI library is CUDA-aware: the EnvAware
// override when it is set to a boolean, otherwise the answer of
// MPIX_Query_cuda_support, the extension Open MPI (and MPICH 4) export,
// looked up at run time so MPI libraries without it still link. A library
// without the function is taken as not CUDA-aware (set EnvAware=1 for one
// that is). Call it after mpi.Init: Open MPI answers 0 before.
func MPISupport() Support {
	note := ""
	if v, ok := os.LookupEnv(EnvAware); ok {
		b, err := strconv.ParseBool(v)
		if err == nil {
			return Support{Aware: b, Source: fmt.Sprintf("%s=%s", EnvAware, v)}
		}
		note = fmt.Sprintf("; %s=%q is not a boolean and was ignored", EnvAware, v)
	}
	found, v, why := queryMPIX()
	switch {
	case !found:
		return Support{Source: why + note}
	case v != 0:
		return Support{Aware: true, Source: fmt.Sprintf("MPIX_Query_cuda_support() = %d%s", v, note)}
	}
	return Support{Source: fmt.Sprintf("MPIX_Query_cuda_support() = 0%s", note)}
}
