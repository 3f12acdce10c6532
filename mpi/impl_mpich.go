//go:build mpich

package mpi

// Implementation names the MPI library this binary was built against. Keep
// in sync with impl_ompi.go.
const Implementation = "mpich"
