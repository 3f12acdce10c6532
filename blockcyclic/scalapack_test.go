//go:build scalapack && cgo

package blockcyclic

// Run with
//
//	go test -tags scalapack ./blockcyclic
//
// It needs ScaLAPACK's library (Debian: libscalapack-openmpi-dev, linked as
// -lscalapack-openmpi) but no MPI job: the tools called are pure arithmetic.

import (
	"testing"

	"github.com/spmd-go/spmd/blockcyclic/internal/scalapackref"
)

// TestAgainstScaLAPACK compares every index map with ScaLAPACK's over the
// same layouts as the brute-force tests, shifting indices by one as doc.go
// says. Dummy arguments get values that vary, to show they are ignored.
func TestAgainstScaLAPACK(t *testing.T) {
	cs := sweep()
	for _, c := range cs {
		for p := 0; p < c.nprocs; p++ {
			ours := Numroc(c.n, c.nb, p, c.isrc, c.nprocs)
			if theirs := scalapackref.Numroc(c.n, c.nb, p, c.isrc, c.nprocs); ours != theirs {
				t.Fatalf("%v: Numroc(iproc=%d) = %d, NUMROC = %d", c, p, ours, theirs)
			}
			for l := 0; l < ours; l++ {
				g := Indxl2g(l, c.nb, p, c.isrc, c.nprocs)
				if theirs := scalapackref.Indxl2g(l+1, c.nb, p, c.isrc, c.nprocs) - 1; g != theirs {
					t.Fatalf("%v: Indxl2g(%d, iproc=%d) = %d, INDXL2G - 1 = %d", c, l, p, g, theirs)
				}
			}
		}
		for g := 0; g < c.n; g++ {
			dummy := g % c.nprocs
			p := Indxg2p(g, c.nb, c.isrc, c.nprocs)
			if theirs := scalapackref.Indxg2p(g+1, c.nb, dummy, c.isrc, c.nprocs); p != theirs {
				t.Fatalf("%v: Indxg2p(%d) = %d, INDXG2P = %d", c, g, p, theirs)
			}
			l := Indxg2l(g, c.nb, c.nprocs)
			if theirs := scalapackref.Indxg2l(g+1, c.nb, dummy, c.isrc, c.nprocs) - 1; l != theirs {
				t.Fatalf("%v: Indxg2l(%d) = %d, INDXG2L - 1 = %d", c, g, l, theirs)
			}
		}
	}
	t.Logf("%d layouts agree with ScaLAPACK", len(cs))
}
