package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
)

// TestDemoJSON builds the demo and runs it small under mpirun at 2 ranks,
// SUMMA and 2.5D, checking the JSON it prints.
func TestDemoJSON(t *testing.T) {
	bin := jobtest.Build(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"-n", "300", "-nb", "64", "-p", "1", "-q", "2"},
		{"-n", "300", "-nb", "64", "-algo", "2.5d", "-p", "1", "-q", "1", "-r", "2"},
		{"-n", "300", "-nb", "64", "-p", "2", "-q", "1", "-pruned"},
	} {
		out := jobtest.Run(t, bin, 2, 2*time.Minute, append([]string{"-json", "-dgemm=false", "-trace", filepath.Join(dir, "trace.json")}, args...)...)
		var got map[string]any
		line := strings.TrimSpace(out)
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("%v: output is not one JSON object: %v\n%s", args, err, out)
		}
		for _, f := range []string{"routine", "n", "nb", "p", "q", "ranks", "seconds", "gflops", "residual", "kernels", "split", "extra"} {
			if _, ok := got[f]; !ok {
				t.Errorf("%v: JSON lacks %q: %s", args, f, line)
			}
		}
		if got["routine"] != "gemm" || got["n"] != 300.0 || got["nb"] != 64.0 || got["ranks"] != 2.0 {
			t.Errorf("%v: wrong routine/n/nb/ranks: %s", args, line)
		}
		if res, _ := got["residual"].(float64); !(res <= 10) {
			t.Errorf("%v: residual %v above 10", args, got["residual"])
		}
		if err := jobtest.CheckSplit(got); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		for _, r := range []string{"", ".1"} {
			if _, err := os.Stat(filepath.Join(dir, "trace.json"+r)); err != nil {
				t.Errorf("%v: trace of rank %s: %v", args, r, err)
			}
		}
		want := "summa"
		if args[4] != "-p" {
			want = "2.5d"
		}
		if ex, _ := got["extra"].(map[string]any); ex == nil || ex["algo"] != want {
			t.Errorf("%v: extra lacks the algorithm: %s", args, line)
		}
		if g, _ := got["gflops"].(float64); !(g > 0) {
			t.Errorf("%v: gflops %v", args, got["gflops"])
		}
	}
}

// TestDemoScaLAPACK runs the demo once small with -scalapack (PDGEMM on the
// same matrices; built with -tags scalapack, as CI's ScaLAPACK step does)
// and checks the comparison fields of its report.
func TestDemoScaLAPACK(t *testing.T) { jobtest.ScaLAPACKDemo(t, 10) }
