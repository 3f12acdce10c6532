//go:build !mpich

package mpi

// Implementation names the MPI library this binary was built against
// ("openmpi", or "mpich" with -tags mpich). Keep in sync with impl_mpich.go.
const Implementation = "openmpi"
