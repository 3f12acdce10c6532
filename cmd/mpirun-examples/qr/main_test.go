package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
)

// TestDemoJSON builds the demo and runs it small under mpirun at 2 ranks on
// both grid shapes and trees, checking the JSON it prints (the program
// itself fails when a residual is above Tol).
func TestDemoJSON(t *testing.T) {
	var tags []string
	if scalapack.Available {
		tags = append(tags, "scalapack")
	}
	bin := jobtest.Build(t, tags...)
	for _, args := range [][]string{
		{"-n", "300", "-nb", "64", "-p", "1", "-q", "2", "-algo", "tile", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "2", "-q", "1", "-algo", "tile", "-tree", "flat", "-ib", "16", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "2", "-q", "1", "-algo", "tile"},
		{"-n", "250", "-nb", "48", "-p", "1", "-q", "2", "-algo", "panel", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "1", "-q", "2", "-algo", "tile", "-pruned", "-check-q"},
		{"-n", "250", "-nb", "48", "-p", "2", "-q", "1", "-algo", "panel"},
	} {
		sl := scalapack.Available
		checkQ := slices.Contains(args, "-check-q")
		if sl {
			args = append(args, "-scalapack", "-scalapack-nb", "32")
		}
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
		if sl {
			if r, _ := got["ratio"].(float64); !(r > 0) {
				t.Errorf("%v: -scalapack gave no ratio: %s", args, line)
			}
			if r, ok := got["scalapack_residual"].(float64); !ok || !(r <= Tol) {
				t.Errorf("%v: ScaLAPACK residual %v, want <= %d", args, got["scalapack_residual"], Tol)
			}
		}
	}
}
