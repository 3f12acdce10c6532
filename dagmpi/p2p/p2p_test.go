package p2p_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/internal/randgraph"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/dagmpi/transporttest"
	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

const (
	helperEnv = "SPMD_DAGMPI_P2P_HELPER"
	pidDirEnv = "SPMD_DAGMPI_P2P_PIDDIR" // where each helper rank writes its process id
)

func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h))
	}
	mpitest.Main(m)
}

func newTransport(t *testing.T) dagmpi.Transport {
	tr, err := p2p.New(mpi.World())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func TestConformance(t *testing.T) {
	transporttest.Run(t, newTransport)
}

// TestRandomGraphs runs the random-graph property test over MPI: full and
// pruned submission, the MPI tag bound and a forced bound of 2, compared
// bit for bit with sequential execution.
func TestRandomGraphs(t *testing.T) {
	w := mpi.World()
	for _, prune := range []bool{false, true} {
		for _, tagBound := range []int{0, 2} {
			for seed := int64(1); seed <= 3; seed++ {
				name := fmt.Sprintf("prune=%v/tags=%d/seed=%d", prune, tagBound, seed)
				t.Run(name, func(t *testing.T) {
					tr := newTransport(t)
					opts := []dagmpi.Option{dagmpi.WithWorkers(2), dagmpi.WithWatchdog(60 * time.Second)}
					if prune {
						opts = append(opts, dagmpi.WithPruned())
					}
					if tagBound > 0 {
						opts = append(opts, dagmpi.WithTagBound(tagBound))
					}
					rt, err := dagmpi.New(tr, opts...)
					if err != nil {
						t.Fatal(err)
					}
					s := randgraph.New(seed, w.Size(), 8, 150)
					want := s.Sequential()
					got, err := s.Run(rt, prune)
					if cerr := rt.Close(); err == nil {
						err = cerr
					}
					if err != nil {
						t.Fatalf("rank %d: %v", w.Rank(), err)
					}
					for d := range got {
						if d%w.Size() == w.Rank() && !randgraph.SameBits(got[d], want[d]) {
							t.Errorf("rank %d: data %d: got %v, want %v", w.Rank(), d, got[d], want[d])
						}
					}
				})
			}
		}
	}
}

// runHelper is a small SPMD program run by TestFailureEndsJob under its own
// mpirun.
func runHelper(what string) int {
	if err := mpi.Init(); err != nil {
		fmt.Println(err)
		return 2
	}
	defer mpi.Finalize()
	if dir := os.Getenv(pidDirEnv); dir != "" {
		name := filepath.Join(dir, fmt.Sprintf("rank%d", mpi.World().Rank()))
		if err := os.WriteFile(name, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Println(err)
			return 2
		}
	}
	rt, err := p2p.NewRuntime(mpi.World(), dagmpi.WithWatchdog(time.Second))
	if err != nil {
		fmt.Println(err)
		return 2
	}
	me := rt.Rank()
	a, _ := dagmpi.NewData[float64](rt, 4, 1, nil)
	switch what {
	case "panic":
		rt.Submit(func(*dagmpi.Task) error { panic("helper boom") }, a.ReadWrite(), dagmpi.Name("explode"))
	case "error":
		rt.Submit(func(*dagmpi.Task) error { return errors.New("helper error: singular pivot") }, a.ReadWrite(), dagmpi.Name("factor"))
	case "stuck":
		rt.Submit(func(*dagmpi.Task) error { select {} }, a.ReadWrite(), dagmpi.Name("stuck"))
	case "not-spmd":
		if me == 0 {
			rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.Name("extra read"))
		}
	}
	if what != "stuck" {
		// The others wait for rank 1's output. (With "stuck" they do not,
		// so that only rank 1's watchdog fires, naming the stuck task.)
		for r := 0; r < rt.Size(); r++ {
			rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.OnRank(r), dagmpi.Name("after"))
		}
	}
	err = rt.Close()
	fmt.Printf("rank %d: Close: %v\n", me, err)
	if err != nil {
		return 1
	}
	return 0
}

// TestFailureEndsJob runs failing programs under their own mpirun and
// checks that the job ends quickly, non-zero, with a message naming the
// rank and the task.
func TestFailureEndsJob(t *testing.T) {
	if mpi.World().Rank() != 0 {
		return
	}
	// The launcher of the MPI we are built against (mpiexec.mpich with
	// -tags mpich): Open MPI's mpirun cannot start an MPICH program.
	mpirun, largs, err := mpitest.Launcher(3)
	if err != nil {
		t.Skip(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// code is mpirun's exit status: p2p.AbortCode where a rank aborts the
	// job, 1 where every rank reports the failure from Close and exits 1.
	cases := []struct {
		what string
		code int
		want []string
	}{
		{"panic", p2p.AbortCode, []string{`rank 1: task "explode" (#0) panicked: helper boom`}},
		{"error", p2p.AbortCode, []string{`rank 1: task "factor" (#0) failed: helper error: singular pivot`}},
		{"stuck", p2p.AbortCode, []string{`rank 1: no progress: nothing finished for 1.`, "1 operations pending", `task "stuck" (#0) running on worker`}},
		{"not-spmd", 1, []string{
			"rank 0: ranks submitted different task graphs: this rank submitted 4 tasks, others between 3 and 4",
			// Each rank names its own task at the first differing index.
			`rank 0: Close: dagmpi: rank 0: ranks submitted different task graphs`,
			`first difference at task #0: here task "extra read" (#0, runs on rank 1)`,
			`rank 1: Close: dagmpi: rank 1: ranks submitted different task graphs`,
			`first difference at task #0: here task "after" (#0, runs on rank 0)`,
		}},
	}
	for _, c := range cases {
		t.Run(c.what, func(t *testing.T) {
			cmd := exec.Command(mpirun, append(largs, exe, "-test.run=^$")...)
			for _, kv := range os.Environ() {
				k, _, _ := strings.Cut(kv, "=")
				if strings.HasPrefix(k, "OMPI_") || strings.HasPrefix(k, "PMIX_") || strings.HasPrefix(k, "PMI_") ||
					strings.HasPrefix(k, "OPAL_") || strings.HasPrefix(k, "HYDRA_") || strings.HasPrefix(k, "PRTE_") ||
					k == "MPI_LOCALNRANKS" || k == "MPI_LOCALRANKID" || k == "SPMD_MPITEST_DIR" {
					continue
				}
				cmd.Env = append(cmd.Env, kv)
			}
			pidDir := t.TempDir()
			cmd.Env = append(cmd.Env, helperEnv+"="+c.what, pidDirEnv+"="+pidDir)
			cmd.WaitDelay = 5 * time.Second // do not wait for orphaned ranks holding the pipes
			start := time.Now()
			done := make(chan struct{})
			var out []byte
			var runErr error
			go func() { out, runErr = cmd.CombinedOutput(); close(done) }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("the failing job did not end within 60s; output:\n%s", out)
			}
			took := time.Since(start)
			t.Logf("job ended after %v: %v\n%s", took.Round(time.Millisecond), runErr, out)
			var ee *exec.ExitError
			if runErr == nil {
				t.Errorf("failing job exited 0")
			} else if !errors.As(runErr, &ee) {
				t.Errorf("failing job ended with %v, want exit status %d", runErr, c.code)
			} else if ee.ExitCode() != c.code && !(mpi.Implementation == "mpich" && c.code == p2p.AbortCode) {
				// MPICH's mpiexec (Hydra) reports an MPI_Abort either
				// with the abort code or as the signal it killed the
				// other ranks with (9), depending on which process it
				// reaps first: any failure status is right there.
				t.Errorf("failing job ended with %v, want exit status %d", runErr, c.code)
			}
			// "Within seconds": the helpers' watchdog is 1s and
			// p2p.AbortGrace 5s; 30s leaves room for a loaded machine
			// and still catches a job that only ends by a timeout.
			if took > 30*time.Second {
				t.Errorf("the failing job took %v to end, want under 30s", took.Round(time.Millisecond))
			}
			checkRanksExited(t, pidDir, 3)
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not contain %q", w)
				}
			}
		})
	}
}

// checkRanksExited checks that each of the np helper ranks wrote its
// process id to dir and that none of those processes is still running
// (a zombie counts as exited) a few seconds after mpirun returned.
func checkRanksExited(t *testing.T, dir string, np int) {
	t.Helper()
	for r := 0; r < np; r++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("rank%d", r)))
		if err != nil {
			t.Errorf("rank %d never started: %v", r, err)
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil {
			t.Errorf("rank %d: bad process id %q", r, b)
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for running(pid) {
			if time.Now().After(deadline) {
				t.Errorf("rank %d (process %d) is still running 10s after the job ended", r, pid)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z' && s[i+2] != 'X'
}
