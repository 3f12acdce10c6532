package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
	"github.com/spmd-go/spmd/internal/mpitest"
)

// mpirun runs the demo on np ranks and returns its output and error.
func mpirun(t *testing.T, bin string, np int, args ...string) (string, string, error) {
	t.Helper()
	launcher, largs, err := mpitest.Launcher(np)
	if err != nil {
		t.Skipf("no MPI launcher: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, launcher, append(append(largs, bin), args...)...)
	c.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err = c.Run()
	return stdout.String(), stderr.String(), err
}

// TestDemoJSON runs the demo small on 2 ranks and checks its JSON report.
func TestDemoJSON(t *testing.T) {
	bin := jobtest.Build(t)
	for _, args := range [][]string{
		{"-n", "300", "-nb", "64"},
		{"-n", "301", "-nb", "50", "-p", "2", "-q", "1", "-grid-order", "col", "-upper"},
		{"-n", "333", "-nb", "40", "-pruned", "-transport", "p2p"},
	} {
		out, stderr, err := mpirun(t, bin, 2, append(args, "-json", "-dgemm=false")...)
		if err != nil {
			t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, stderr)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 1 {
			t.Fatalf("%v: want one JSON line from rank 0, got:\n%s", args, out)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(lines[0]), &rep); err != nil {
			t.Fatalf("%v: %v in %s", args, err, lines[0])
		}
		for _, k := range []string{"routine", "n", "nb", "p", "q", "ranks", "seconds", "gflops", "residual", "kernels", "split"} {
			if _, ok := rep[k]; !ok {
				t.Errorf("%v: field %q missing in %s", args, k, lines[0])
			}
		}
		if rep["routine"] != "potrf" || rep["ranks"] != 2.0 || rep["n"] != mustNum(t, args[1]) {
			t.Errorf("%v: routine %v ranks %v n %v", args, rep["routine"], rep["ranks"], rep["n"])
		}
		if p, q := rep["p"], rep["q"]; p.(float64)*q.(float64) != 2 {
			t.Errorf("%v: grid %v x %v on 2 ranks", args, p, q)
		}
		if r, ok := rep["residual"].(float64); !ok || !(r < 30) {
			t.Errorf("%v: residual %v, want < 30", args, rep["residual"])
		}
		if g, ok := rep["gflops"].(float64); !ok || !(g > 0) {
			t.Errorf("%v: gflops %v, want > 0", args, rep["gflops"])
		}
		if pruned := strings.Contains(strings.Join(args, " "), "-pruned"); (rep["pruned"] == true) != pruned {
			t.Errorf("%v: pruned %v in the report", args, rep["pruned"])
		}
		if err := jobtest.CheckSplit(rep); err != nil {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func mustNum(t *testing.T, s string) float64 {
	var v float64
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDemoErrors checks that bad flags end the job with a message.
func TestDemoErrors(t *testing.T) {
	bin := jobtest.Build(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-scalapack"}, "built without -tags scalapack"},
		{[]string{"-transport", "pigeon"}, `-transport "pigeon"`},
		{[]string{"-p", "3"}, "P*Q must equal the 2 ranks"},
		{[]string{"-pruned", "-transport", "collective"}, "-pruned with -transport collective"},
		{[]string{"-workers", "-1"}, "-workers -1: must not be negative"},
	} {
		out, stderr, err := mpirun(t, bin, 2, append(c.args, "-n", "10", "-dgemm=false")...)
		if err == nil {
			t.Errorf("%v: no error; output:\n%s", c.args, out)
			continue
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr does not say %q:\n%s", c.args, c.want, stderr)
		}
	}
}

// TestDemoScaLAPACK runs the demo once small with -scalapack (PDPOTRF on
// the same matrix; built with -tags scalapack, as CI's ScaLAPACK step does)
// and checks the comparison fields of its report.
func TestDemoScaLAPACK(t *testing.T) { jobtest.ScaLAPACKDemo(t, 30) }

// TestDemoLAPACK runs the demo with -lapack (OpenBLAS's DPOTRF on a whole
// copy on every rank at once) and checks the fields it adds: a rate, the
// ratio to it and the residual of the LAPACK factor; and the line it prints
// without -json.
func TestDemoLAPACK(t *testing.T) {
	bin := jobtest.Build(t)
	for _, args := range [][]string{
		{"-n", "300", "-nb", "64"},
		{"-n", "257", "-nb", "50", "-upper"},
	} {
		out, stderr, err := mpirun(t, bin, 2, append(args, "-lapack", "-json", "-dgemm=false")...)
		if err != nil {
			t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, stderr)
		}
		var rep struct {
			GFlops float64        `json:"gflops"`
			Extra  map[string]any `json:"extra"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rep); err != nil {
			t.Fatalf("%v: %v in %s", args, err, out)
		}
		lg, _ := rep.Extra["lapack_gflops"].(float64)
		ls, _ := rep.Extra["lapack_seconds"].(float64)
		ratio, _ := rep.Extra["ratio_to_lapack"].(float64)
		res, ok := rep.Extra["lapack_residual"].(float64)
		if !(lg > 0) || !(ls > 0) {
			t.Errorf("%v: lapack_gflops %v lapack_seconds %v, want > 0", args, rep.Extra["lapack_gflops"], rep.Extra["lapack_seconds"])
		}
		n := mustNum(t, args[1])
		if want := 2 * n * n * n / 3 / ls / 1e9; lg < want*0.999 || lg > want*1.001 {
			t.Errorf("%v: lapack_gflops %v, want 2 ranks x n³/3 / lapack_seconds = %v", args, lg, want)
		}
		if want := rep.GFlops / lg; ratio < want*0.999 || ratio > want*1.001 {
			t.Errorf("%v: ratio_to_lapack %v, want gflops / lapack_gflops = %v", args, ratio, want)
		}
		if !ok || !(res < 30) {
			t.Errorf("%v: lapack_residual %v, want < 30", args, rep.Extra["lapack_residual"])
		}
	}
	out, stderr, err := mpirun(t, bin, 2, "-n", "200", "-nb", "64", "-lapack", "-dgemm=false")
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	if !strings.Contains(out, "LAPACK DPOTRF, one thread, an N x N copy on each of the 2 ranks at once") || !strings.Contains(out, "spmd / LAPACK = ") {
		t.Errorf("no LAPACK line in the output:\n%s", out)
	}
}

// TestDemoRoutes checks that the report names auto's routing (mux.Auto's
// Describe: every size class on p2p or rma), in the JSON and in the text,
// and says nothing of routes for a transport that has none.
func TestDemoRoutes(t *testing.T) {
	bin := jobtest.Build(t)
	out, stderr, err := mpirun(t, bin, 2, "-n", "200", "-nb", "50", "-transport", "auto", "-json", "-dgemm=false")
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	var rep struct {
		Routes string `json:"routes"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if !regexp.MustCompile(`^(p2p|rma) (all sizes|<[0-9]+(B|KiB|MiB))`).MatchString(rep.Routes) {
		t.Errorf("routes %q: want auto's routing, such as \"p2p <2KiB, rma 2KiB-128KiB, p2p >=128KiB\"", rep.Routes)
	}
	out, stderr, err = mpirun(t, bin, 2, "-n", "200", "-nb", "50", "-transport", "auto", "-dgemm=false")
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	if !strings.Contains(out, "auto transport routes: "+rep.Routes[:3]) {
		t.Errorf("no routes line in the text report:\n%s", out)
	}
	out, stderr, err = mpirun(t, bin, 2, "-n", "200", "-nb", "50", "-transport", "p2p", "-json", "-dgemm=false")
	if err != nil {
		t.Fatalf("%v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	if strings.Contains(out, `"routes"`) {
		t.Errorf("-transport p2p: the report has routes: %s", out)
	}
}
