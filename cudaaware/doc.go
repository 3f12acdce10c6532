// Package cudaaware will provide device buffers as a buffer kind that
// package mpi and the dagmpi runtime accept, detection of CUDA-aware MPI
// with a staging path through pinned host memory when it is absent, and
// chunked multi-stream pipelines that overlap copies, kernels and
// transfers. It will be built with the cuda build tag and report that CUDA
// is absent without it.
//
// Nothing is implemented yet: the package only reserves its place in the
// layout.
package cudaaware
