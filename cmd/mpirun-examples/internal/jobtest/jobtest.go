// Package jobtest runs an example program under its own mpirun from a test:
// it builds the package in the test's directory and starts it on n ranks,
// returning rank 0's standard output. Tests that use it are ordinary (not
// mpitest) tests: they skip when no launcher exists or when already inside an
// MPI job.
package jobtest

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
