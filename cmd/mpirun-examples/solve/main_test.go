package main

import (
	"testing"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/ludemo"
)

// TestDemoJSON runs the solver demo small at 2 ranks with several
// right-hand sides and checks its JSON (routine, rate, backward error of
// the solution, growth factor, pivoting).
func TestDemoJSON(t *testing.T) {
	bin := jobtest.Build(t)
	for _, args := range [][]string{
		{"-n", "300", "-nb", "64", "-p", "1", "-q", "2", "-nrhs", "5", "-pivot", "partial"},
		{"-n", "250", "-nb", "48", "-p", "2", "-q", "1", "-nrhs", "3", "-pivot", "tournament"},
	} {
		out := jobtest.Run(t, bin, 2, 2*time.Minute, append([]string{"-json", "-dgemm=false"}, args...)...)
		if err := jobtest.CheckSplit(jobtest.Report(t, out)); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if err := ludemo.CheckJSON(out, "gesv", 2, args[len(args)-1]); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// TestDemoScaLAPACK runs the demo once small with -scalapack (PDGETRF and PDGETRS on
// the same matrix; built with -tags scalapack, as CI's ScaLAPACK step does)
// and checks the comparison fields of its report.
func TestDemoScaLAPACK(t *testing.T) { jobtest.ScaLAPACKDemo(t, ludemo.Tol) }
