package mpi_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/mpi"
)

func TestEnvironment(t *testing.T) {
	assert.True(t, mpi.Initialized())
	assert.False(t, mpi.Finalized())
	assert.Equal(t, mpi.ThreadMultiple, mpi.Provided(), "Open MPI and MPICH on Debian provide MULTIPLE")
	major, minor := mpi.Version()
	assert.GreaterOrEqual(t, major*10+minor, 31, "MPI 3.1 or later")
	lib := mpi.LibraryVersion()
	switch mpi.Implementation {
	case "openmpi":
		assert.Contains(t, lib, "Open MPI")
	case "mpich":
		assert.Contains(t, lib, "MPICH")
	}
	name, err := mpi.ProcessorName()
	require.NoError(t, err)
	host, _ := os.Hostname()
	assert.NotEmpty(t, name)
	assert.True(t, strings.HasPrefix(host, name) || strings.HasPrefix(name, host), "processor %q, host %q", name, host)
	t0 := mpi.Wtime()
	time.Sleep(10 * time.Millisecond)
	dt := mpi.Wtime() - t0
	// Wtime counts seconds: a 10 ms sleep reads as at least 9 ms, and (on an
	// oversubscribed machine, with slack) far less than a second.
	assert.GreaterOrEqual(t, dt, 0.009)
	assert.Less(t, dt, 1.0)
	assert.Greater(t, mpi.Wtick(), 0.0)
	assert.Less(t, mpi.Wtick(), 1e-3)
	w := mpi.World()
	assert.GreaterOrEqual(t, w.TagUB(), 32767, "the standard's minimum")
	assert.Equal(t, 1, mpi.Self().Size())
	assert.Equal(t, 0, mpi.Self().Rank())
	// A second Init is harmless and reports the same level.
	lvl, err := mpi.InitThread(mpi.ThreadSingle)
	assert.NoError(t, err)
	assert.Equal(t, mpi.Provided(), lvl)
}

// The helper process checks the lifecycle errors: calls before Init and after
// Finalize must return errors, not crash. It runs as a singleton MPI process
// (no launcher environment), started by rank 0 only.
const helperEnv = "SPMD_MPI_TEST_HELPER"

func runHelper(what string) int {
	switch what {
	case "lifecycle":
		buf := []float64{1}
		if err := mpi.Send(mpi.World(), buf, 0, 0); err == nil || !errors.Is(err, mpi.ErrNotInitialized) {
			fmt.Println("before Init: want ErrNotInitialized, got", err)
			return 1
		}
		if err := mpi.Init(); err != nil {
			fmt.Println("Init:", err)
			return 1
		}
		w := mpi.World()
		r, err := mpi.Irecv(w, buf, 0, 5)
		if err != nil {
			fmt.Println("Irecv:", err)
			return 1
		}
		if err := r.Cancel(); err != nil {
			fmt.Println("Cancel:", err)
			return 1
		}
		st, err := r.Wait()
		if err != nil || !st.Cancelled {
			fmt.Println("cancelled receive: want Cancelled, got", st, err)
			return 1
		}
		if err := mpi.Finalize(); err != nil {
			fmt.Println("Finalize:", err)
			return 1
		}
		checks := map[string]error{
			"Send":      mpi.Send(w, buf, 0, 0),
			"Barrier":   mpi.Barrier(w),
			"Allreduce": mpi.Allreduce(w, buf, buf, mpi.Sum),
			"Finalize":  mpi.Finalize(),
		}
		_, checks["Dup"] = w.Dup()
		_, checks["Wait"] = r.Wait()
		for name, err := range checks {
			if !errors.Is(err, mpi.ErrFinalized) {
				fmt.Printf("%s after Finalize: want ErrFinalized, got %v\n", name, err)
				return 1
			}
		}
		if !mpi.Finalized() {
			fmt.Println("Finalized() = false after Finalize")
			return 1
		}
		fmt.Println("lifecycle ok")
		return 0
	case "leak":
		mpi.Init()
		func() {
			// Dropped unfinished: no one can complete it now. The
			// collections must not trip the runtime's leaked-Pinner
			// check, since the binding keeps the pin reachable.
			mpi.Irecv(mpi.World(), make([]byte, 4), 0, 9)
		}()
		runtime.GC()
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
		if n := mpi.PendingRequests(); n != 1 {
			fmt.Println("PendingRequests =", n, "want 1")
			return 1
		}
		err := mpi.Finalize()
		fmt.Println(err)
		if err == nil || !errors.Is(err, mpi.ErrPending) {
			return 1
		}
		return 0
	}
	fmt.Println("unknown helper", what)
	return 2
}

// helperCommand runs this test binary as a singleton MPI process.
func helperCommand(t *testing.T, what string) (string, error) {
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OMPI_") || strings.HasPrefix(k, "PMIX_") || strings.HasPrefix(k, "PMI_") ||
			strings.HasPrefix(k, "OPAL_") || strings.HasPrefix(k, "HYDRA_") || k == "MPI_LOCALNRANKS" ||
			k == "MPI_LOCALRANKID" || k == "SPMD_MPITEST_DIR" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, helperEnv+"="+what, "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestLifecycleErrors(t *testing.T) {
	if mpi.World().Rank() != 0 {
		return
	}
	out, err := helperCommand(t, "lifecycle")
	assert.NoError(t, err, "helper output:\n%s", out)
	assert.Contains(t, out, "lifecycle ok")
}

func TestFinalizeReportsPendingRequests(t *testing.T) {
	if mpi.World().Rank() != 0 {
		return
	}
	out, err := helperCommand(t, "leak")
	assert.NoError(t, err, "helper output:\n%s", out)
	assert.Contains(t, out, "1 requests were still pending")
}
