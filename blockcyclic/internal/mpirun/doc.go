// Package mpirun runs the distributed blockcyclic cases (package
// blockcyclic/internal/cases) under mpirun, at 1 to 4 ranks, over the MPI
// point-to-point transport. It has no code of its own: see its tests.
package mpirun
