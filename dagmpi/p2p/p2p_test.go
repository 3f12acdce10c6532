package p2p_test

import (
	"fmt"
	"os"
	"os/exec"
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

const helperEnv = "SPMD_DAGMPI_P2P_HELPER"

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
	case "stuck":
		rt.Submit(func(*dagmpi.Task) error { select {} }, a.ReadWrite(), dagmpi.Name("stuck"))
	case "not-spmd":
		if me == 0 {
			rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read())
		}
	}
	if what != "stuck" {
		// The others wait for rank 1's output. (With "stuck" they do not,
		// so that only rank 1's watchdog fires, naming the stuck task.)
		for r := 0; r < rt.Size(); r++ {
			rt.Submit(func(*dagmpi.Task) error { return nil }, a.Read(), dagmpi.OnRank(r))
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
	cases := []struct {
		what string
		want []string
	}{
		{"panic", []string{`rank 1: task "explode" (#0) panicked: helper boom`}},
		{"stuck", []string{`rank 1: no progress: nothing finished for 1.`, "1 operations pending", `task "stuck" (#0) running on worker`}},
		{"not-spmd", []string{"rank 0: ranks submitted different task graphs: this rank submitted 4 tasks, others between 3 and 4"}},
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
			cmd.Env = append(cmd.Env, helperEnv+"="+c.what)
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
			t.Logf("job ended after %v: %v\n%s", time.Since(start).Round(time.Millisecond), runErr, out)
			if runErr == nil {
				t.Errorf("failing job exited 0")
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not contain %q", w)
				}
			}
		})
	}
}
