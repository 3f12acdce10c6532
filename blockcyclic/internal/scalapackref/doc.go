// Package scalapackref calls ScaLAPACK's own index tools (NUMROC, INDXG2P,
// INDXG2L, INDXL2G) through cgo, so that tests can compare package
// blockcyclic with them. It is built only with the scalapack build tag and
// cgo; without them the package is empty and nothing links ScaLAPACK.
//
// The functions keep ScaLAPACK's Fortran conventions exactly: 1-based global
// and local indices, 0-based process coordinates, and the dummy arguments.
// They need no MPI or BLACS initialisation: the tools are pure arithmetic.
//
// Debian: apt-get install libscalapack-openmpi-dev, then
//
//	go test -tags scalapack ./blockcyclic
package scalapackref
