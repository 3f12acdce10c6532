// Package jobtest runs an example program under its own mpirun from a test:
// it builds the package in the test's directory and starts it on n ranks,
// returning rank 0's standard output. Tests that use it are ordinary (not
// mpitest) tests: they skip when no launcher exists or when already inside an
// MPI job.
package jobtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/blockcyclic/scalapack"
	"github.com/spmd-go/spmd/internal/mpitest"
)

// Build builds the package in the current directory (the test's), with the
// given build tags, into a temporary directory and returns the binary's path.
func Build(t *testing.T, tags ...string) string {
	t.Helper()
	if mpitest.InJob() {
		t.Skip("already inside an MPI job; this test starts its own mpirun")
	}
	if _, _, err := mpitest.Launcher(1); err != nil {
		t.Skip(err)
	}
	bin := filepath.Join(t.TempDir(), "prog")
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Run starts bin with args on n ranks (at most limit long) and returns its
// standard output; it fails the test if the job fails.
func Run(t *testing.T, bin string, n int, limit time.Duration, args ...string) string {
	t.Helper()
	path, largs, err := mpitest.Launcher(n)
	if err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append(append(largs, bin), args...)...)
	cmd.Env = mpitest.LauncherEnv()
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", path, strings.Join(cmd.Args[1:], " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// Report parses out, rank 0's standard output with -json, as one JSON
// object, failing the test if it is not one.
func Report(t *testing.T, out string) map[string]any {
	t.Helper()
	var rep map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	return rep
}

// CheckSplit returns an error unless the report's split has
// bytes_by_transport, an object of byte counts that sum to its bytes_sent.
func CheckSplit(rep map[string]any) error {
	split, ok := rep["split"].(map[string]any)
	if !ok {
		return fmt.Errorf("no split object in %v", rep)
	}
	sent, ok := split["bytes_sent"].(float64)
	if !ok {
		return fmt.Errorf("split has no bytes_sent: %v", split)
	}
	by, ok := split["bytes_by_transport"].(map[string]any)
	if !ok || len(by) == 0 {
		return fmt.Errorf("split has no bytes_by_transport object: %v", split)
	}
	sum := 0.0
	for k, v := range by {
		b, ok := v.(float64)
		if !ok || b < 0 {
			return fmt.Errorf("split.bytes_by_transport[%q] = %v, want a byte count", k, v)
		}
		sum += b
	}
	if sum != sent {
		return fmt.Errorf("split.bytes_by_transport %v sums to %v, want bytes_sent %v", by, sum, sent)
	}
	return nil
}

// CheckScaLAPACK returns an error unless the report of a run with
// -scalapack has scalapack_gflops and ratio above 0 and a
// scalapack_residual in [0, tol].
func CheckScaLAPACK(rep map[string]any, tol float64) error {
	for _, k := range []string{"scalapack_gflops", "ratio"} {
		if v, _ := rep[k].(float64); !(v > 0) {
			return fmt.Errorf("%s %v, want > 0", k, rep[k])
		}
	}
	if r, ok := rep["scalapack_residual"].(float64); !ok || !(r >= 0 && r <= tol) {
		return fmt.Errorf("scalapack_residual %v, want in [0, %v]", rep["scalapack_residual"], tol)
	}
	return nil
}

// ScaLAPACKDemo is a demo's TestDemoScaLAPACK: it builds the demo of the
// test's package with -tags scalapack, runs it once small on 2 ranks (n 300,
// nb 64, 1 x 2) with -scalapack (the ScaLAPACK routine on the same matrix),
// and checks the comparison fields of its report (ScaLAPACK's residual
// below tol) and its time split. It skips when the test binary itself was
// built without the tag, as outside CI's ScaLAPACK step.
func ScaLAPACKDemo(t *testing.T, tol float64) {
	t.Helper()
	if !scalapack.Available {
		t.Skip("built without -tags scalapack")
	}
	bin := Build(t, "scalapack")
	out := Run(t, bin, 2, 2*time.Minute, "-json", "-dgemm=false", "-n", "300", "-nb", "64", "-p", "1", "-q", "2", "-scalapack")
	rep := Report(t, out)
	if err := CheckScaLAPACK(rep, tol); err != nil {
		t.Error(err)
	}
	if err := CheckSplit(rep); err != nil {
		t.Error(err)
	}
}
