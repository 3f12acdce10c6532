// Package mpitest runs a package's tests under mpirun, so that `go test
// ./...` is the only command a user needs.
//
// A package's TestMain calls Main. When the test binary is not inside an MPI
// job, Main is the launcher: it re-executes the same binary, with the same
// flags, under `mpirun -np N` for each N of the rank counts (1, 2, 3 and 4 by
// default), collects each rank's output, prints rank 0's (and every rank's
// when the run failed), and exits non-zero if any run failed or timed out.
// When the binary is inside a job (launched by Main, by hand as
// `mpirun -np 4 ./pkg.test`, or by `go test -exec "mpirun -np 4"`), Main
// initialises MPI, runs the tests, combines the result across ranks so every
// rank exits with the worst code, and aborts the whole job if the run outlasts
// its timeout. Without an MPI launcher on PATH the launcher skips the tests
// with a reason.
//
// Environment:
//
//	SPMD_MPITEST_NP       rank counts to run, for example "2" or "1,4"
//	SPMD_MPITEST_TIMEOUT  time limit of one run (Go duration; default 5m)
//	SPMD_MPIRUN           the launcher (default mpirun, mpiexec.mpich with -tags mpich)
//
// Tests must be collectively safe: no t.Parallel, skips decided from facts
// every rank shares, and the same sequence of collective calls on every rank
// whatever a rank's assertions find (prefer assert over require).
package mpitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spmd-go/spmd/mpi"
)

// Env names.
const (
	envNP      = "SPMD_MPITEST_NP"
	envTimeout = "SPMD_MPITEST_TIMEOUT"
	envRunner  = "SPMD_MPIRUN"
	envDir     = "SPMD_MPITEST_DIR"
)

type config struct {
	ranks   []int
	timeout time.Duration
}

// Option configures Main.
type Option func(*config)

// Ranks sets the rank counts the launcher runs the tests at.
func Ranks(n ...int) Option { return func(c *config) { c.ranks = n } }

// Timeout sets the time limit of one run at one rank count.
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// InJob reports whether this process was started by an MPI launcher.
func InJob() bool {
	for _, v := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK", "MPI_LOCALNRANKS"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// Main runs the tests of m as described in the package comment. It does not
// return.
func Main(m *testing.M, opts ...Option) {
	cfg := config{ranks: []int{1, 2, 3, 4}, timeout: 5 * time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	if s := os.Getenv(envNP); s != "" {
		cfg.ranks = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				fmt.Fprintf(os.Stderr, "mpitest: bad %s=%q\n", envNP, s)
				os.Exit(2)
			}
			cfg.ranks = append(cfg.ranks, n)
		}
	}
	if s := os.Getenv(envTimeout); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mpitest: bad %s=%q: %v\n", envTimeout, s, err)
			os.Exit(2)
		}
		cfg.timeout = d
	}
	if InJob() {
		os.Exit(child(m, cfg))
	}
	os.Exit(launch(cfg))
}

// child runs the tests inside the job.
func child(m *testing.M, cfg config) int {
	if dir := os.Getenv(envDir); dir != "" {
		redirect(dir)
	}
	if err := mpi.Init(); err != nil {
		fmt.Fprintf(os.Stderr, "mpitest: %v\n", err)
		return 2
	}
	w := mpi.World()
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(cfg.timeout):
			mpi.Abort(w, 3, fmt.Sprintf("mpitest: tests did not finish within %v (a rank is probably waiting in a call the others left; set %s to change the limit)", cfg.timeout, envTimeout))
		}
	}()
	code := m.Run()
	close(done)
	if n := mpi.PendingRequests(); n > 0 && code == 0 {
		fmt.Printf("mpitest: rank %d: %d requests left pending after the tests\n", w.Rank(), n)
		code = 1
	}
	worst := []int32{0}
	if err := mpi.Allreduce(w, []int32{int32(code)}, worst, mpi.Max); err != nil {
		fmt.Fprintf(os.Stderr, "mpitest: combining results: %v\n", err)
		return 2
	}
	if worst[0] != 0 && code == 0 {
		fmt.Printf("mpitest: rank %d passed, but another rank failed\n", w.Rank())
	}
	mpi.Finalize()
	return int(worst[0])
}

// redirect sends this rank's stdout and stderr to dir/rank-N.log.
func redirect(dir string) {
	rank := os.Getenv("OMPI_COMM_WORLD_RANK")
	if rank == "" {
		rank = os.Getenv("PMI_RANK")
	}
	f, err := os.Create(filepath.Join(dir, "rank-"+rank+".log"))
	if err != nil {
		return
	}
	syscall.Dup2(int(f.Fd()), 1)
	syscall.Dup2(int(f.Fd()), 2)
}

// Launcher returns the MPI launcher's path and the arguments that start n
// ranks on this machine (oversubscribing the cores if needed).
func Launcher(n int) (string, []string, error) {
	name := os.Getenv(envRunner)
	if name == "" {
		name = "mpirun"
		if mpi.Implementation == "mpich" {
			name = "mpiexec.mpich"
		}
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", nil, fmt.Errorf("no MPI launcher %q on PATH (set %s)", name, envRunner)
	}
	args := []string{"-n", strconv.Itoa(n)}
	if mpi.Implementation == "openmpi" {
		args = append(args, "--oversubscribe")
		if os.Geteuid() == 0 {
			args = append(args, "--allow-run-as-root")
		}
	}
	return path, args, nil
}

// LauncherEnv returns the environment for a launched job: Open MPI yields
// the core when idle (ranks may outnumber cores) and OpenBLAS uses one thread
// per rank.
func LauncherEnv() []string {
	env := append(os.Environ(), "OMPI_MCA_mpi_yield_when_idle=1", "OPENBLAS_NUM_THREADS=1")
	if os.Geteuid() == 0 {
		env = append(env, "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	}
	return env
}

func launch(cfg config) int {
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "mpitest: %v\n", err)
		return 2
	}
	if _, _, err := Launcher(1); err != nil {
		fmt.Printf("mpitest: skipping the tests: %v\n", err)
		fmt.Println("PASS")
		return 0
	}
	failed := false
	for _, n := range cfg.ranks {
		if !runAt(exe, n, cfg.timeout) {
			failed = true
		}
	}
	if failed {
		fmt.Println("FAIL")
		return 1
	}
	return 0
}

// runAt runs the test binary at n ranks and reports whether it passed.
func runAt(exe string, n int, timeout time.Duration) bool {
	dir, err := os.MkdirTemp("", "mpitest")
	if err != nil {
		fmt.Fprintf(os.Stderr, "mpitest: %v\n", err)
		return false
	}
	defer os.RemoveAll(dir)
	path, args, _ := Launcher(n)
	args = append(args, exe)
	args = append(args, os.Args[1:]...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(LauncherEnv(), envDir+"="+dir, fmt.Sprintf("%s=%s", envTimeout, timeout))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err = cmd.Run()
	ok := err == nil
	fmt.Printf("=== mpitest: %d rank(s)\n", n)
	printFile(filepath.Join(dir, "rank-0.log"), "")
	if !ok {
		for r := 1; r < n; r++ {
			printFile(filepath.Join(dir, fmt.Sprintf("rank-%d.log", r)), fmt.Sprintf("--- mpitest: output of rank %d of %d:\n", r, n))
		}
		if out.Len() > 0 {
			fmt.Printf("--- mpitest: launcher output:\n%s", out.String())
		}
		var ee *exec.ExitError
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			fmt.Printf("mpitest: %d rank(s): killed after %v\n", n, time.Since(start).Round(time.Second))
		case errors.As(err, &ee):
			fmt.Printf("mpitest: %d rank(s): FAIL (exit %d) in %v\n", n, ee.ExitCode(), time.Since(start).Round(time.Millisecond))
		default:
			fmt.Printf("mpitest: %d rank(s): %v\n", n, err)
		}
		return false
	}
	fmt.Printf("mpitest: %d rank(s): ok in %v\n", n, time.Since(start).Round(time.Millisecond))
	return true
}

func printFile(path, header string) {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return
	}
	fmt.Print(header)
	os.Stdout.Write(b)
}

// World returns MPI_COMM_WORLD of the running test job.
func World() *mpi.Comm { return mpi.World() }

// NeedRanks skips t unless the job has at least n ranks. Every rank makes
// the same decision.
func NeedRanks(t testing.TB, n int) {
	t.Helper()
	if mpi.World().Size() < n {
		t.Skipf("needs %d ranks, the job has %d", n, mpi.World().Size())
	}
}

// Comms returns the communicators a test body should run on: the world, a
// Dup of it, and a Split of it with the ranks in reverse order. The derived
// communicators are freed when t ends (collectively, in the same order on
// every rank).
func Comms(t testing.TB) []*mpi.Comm {
	t.Helper()
	w := mpi.World()
	d, err := w.Dup()
	if err != nil {
		t.Fatalf("Dup: %v", err)
	}
	r, err := w.Split(0, w.Size()-w.Rank())
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	t.Cleanup(func() {
		d.Free()
		r.Free()
	})
	return []*mpi.Comm{w, d, r}
}
