package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
)

// TestDemoJSON builds the demo and runs it small under mpirun at 2 ranks on
// both grid shapes and trees, checking the JSON it prints (the program
// itself fails when a residual is above Tol).
func TestDemoJSON(t *testing.T) {
	bin := jobtest.Build(t)
	for _, args := range [][]string{
		{"-n", "300", "-nb", "64", "-p", "1", "-q", "2", "-algo", "tile", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "2", "-q", "1", "-algo", "tile", "-tree", "flat", "-ib", "16", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "2", "-q", "1", "-algo", "tile"},
		{"-n", "250", "-nb", "48", "-p", "1", "-q", "2", "-algo", "panel", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "1", "-q", "2", "-algo", "tile", "-pruned", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "2", "-q", "1", "-algo", "panel"},
	} {
		checkQ := slices.Contains(args, "-check-q")
		out := jobtest.Run(t, bin, 2, 2*time.Minute, append([]string{"-json", "-dgemm=false"}, args...)...)
		var got map[string]any
		line := strings.TrimSpace(out)
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("%v: output is not one JSON object: %v\n%s", args, err, out)
		}
		if got["routine"] != "geqrf" || got["ranks"] != 2.0 {
			t.Errorf("%v: wrong routine/ranks: %s", args, line)
		}
		if res, ok := got["residual"].(float64); !ok || !(res <= Tol) {
			t.Errorf("%v: residual %v, want <= %d", args, got["residual"], Tol)
		}
		ex, _ := got["extra"].(map[string]any)
		if checkQ {
			if r, ok := ex["q_residual"].(float64); !ok || !(r <= Tol) {
				t.Errorf("%v: q_residual %v, want <= %d", args, ex["q_residual"], Tol)
			}
		}
		if g, _ := got["gflops"].(float64); !(g > 0) {
			t.Errorf("%v: gflops %v", args, got["gflops"])
		}
		if err := jobtest.CheckSplit(got); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// TestDemoScaLAPACK runs the demo once small with -scalapack (PDGEQRF on
// the same matrix; built with -tags scalapack, as CI's ScaLAPACK step does)
// and checks the comparison fields of its report.
func TestDemoScaLAPACK(t *testing.T) { jobtest.ScaLAPACKDemo(t, Tol) }
