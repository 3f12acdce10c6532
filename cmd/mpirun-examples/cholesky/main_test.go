package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestProgram builds the program and runs it under mpirun at 2 ranks, small,
// for both factors, checking its JSON result.
func TestProgram(t *testing.T) {
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Skip("no mpirun on PATH")
	}
	bin := filepath.Join(t.TempDir(), "cholesky")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"-n", "300", "-nb", "64", "-uplo", "L"},
		{"-n", "257", "-nb", "32", "-uplo", "U", "-transport", "rma", "-p", "2", "-q", "1"},
		{"-n", "200", "-nb", "48", "-transport", "collective", "-dgemm=false"},
	} {
		cmd := exec.Command("../../../scripts/mpirun.sh", append([]string{"-np", "2", bin, "-json"}, args...)...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var r struct {
			Routine   string  `json:"routine"`
			N         int     `json:"n"`
			Ranks     int     `json:"ranks"`
			GFLOPS    float64 `json:"gflops"`
			Residual  float64 `json:"residual"`
			Kernels   string  `json:"kernels"`
			Transport string  `json:"transport"`
		}
		line := strings.TrimSpace(string(out))
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: output is not one JSON object: %v\n%s", args, err, out)
		}
		if r.Routine != "potrf" || r.Ranks != 2 || r.N != atoi(args[1]) || r.GFLOPS <= 0 || r.Kernels == "" || r.Transport == "" {
			t.Errorf("%v: result %+v", args, r)
		}
		if !(r.Residual < 30) {
			t.Errorf("%v: residual %v", args, r.Residual)
		}
	}
	// A bad flag ends the job with a message, not a hang.
	out, err := exec.Command("../../../scripts/mpirun.sh", "-np", "2", bin, "-p", "3").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-p 3") {
		t.Errorf("-p 3 on 2 ranks: err %v, output:\n%s", err, out)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
