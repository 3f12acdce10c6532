package blockcyclic_test

import (
	"fmt"
	"testing"

	"github.com/spmd-go/spmd/blockcyclic/internal/cases"
)

// TestCases runs the distributed cases on in-process worlds of 1 to 4
// goroutine ranks (the same cases run under mpirun in
// blockcyclic/internal/mpirun).
func TestCases(t *testing.T) {
	for _, c := range cases.All() {
		for _, v := range cases.Variants(c) {
			for n := 1; n <= 4; n++ {
				t.Run(fmt.Sprintf("%s/%s/np=%d", c.Name, v.Name, n), func(t *testing.T) {
					cases.InProc(t, c, n, v.Opts...)
				})
			}
		}
	}
}
