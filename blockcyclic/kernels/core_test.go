package kernels

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The SelectCore tests run the test binary itself as a child with a chosen
// environment; the child (TestSelectCoreChild, gated by envChild) calls
// SelectCore and prints the core OpenBLAS ended up with, "core=NAME".
const envChild = "KERNELS_TEST_SELECTCORE_CHILD"

func TestSelectCoreChild(t *testing.T) {
	mode := os.Getenv(envChild)
	if mode == "" {
		t.Skip("runs only as the child of TestSelectCore")
	}
	if mode == "auto-from-haswell" && os.Getenv(envReexec) == "" {
		// Started with OPENBLAS_CORETYPE=Haswell so that OpenBLAS loads
		// its AVX2 kernels as on a CPU it does not recognise; forget the
		// variable so SelectCore decides as if OpenBLAS had chosen.
		os.Unsetenv(EnvCoreType)
	}
	if err := SelectCore(); err != nil {
		t.Fatal(err)
	}
	t.Logf("core=%s threads=%d reexec=%s", CoreName(), NumThreads(), os.Getenv(envReexec))
}

func runChild(t *testing.T, mode string, env ...string) (core, threads, reexec string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSelectCoreChild$", "-test.v", "-test.count=1")
	cmd.Env = []string{envChild + "=" + mode}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case EnvCoreType, EnvSelect, EnvNumThreads, "GOTO_NUM_THREADS", "OMP_NUM_THREADS", envReexec, envChild:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s %v: %v\n%s", mode, env, err, out)
	}
	i := strings.Index(string(out), "core=")
	if i < 0 {
		t.Fatalf("child %s %v printed no core:\n%s", mode, env, out)
	}
	f := strings.Fields(string(out[i:]))
	return strings.TrimPrefix(f[0], "core="), strings.TrimPrefix(f[1], "threads="), strings.TrimPrefix(f[2], "reexec=")
}

func TestSelectCore(t *testing.T) {
	if !Cgo {
		t.Skip("built without cgo: no OpenBLAS to choose kernels of")
	}
	if os.Getenv(envChild) != "" {
		t.Skip("in the child")
	}
	// The children force OpenBLAS's Haswell kernels, which need AVX2 and FMA.
	if b, err := os.ReadFile("/proc/cpuinfo"); err != nil || !cpuinfoHas(string(b), []string{"avx2", "fma"}) {
		t.Skip("no x86 CPU with AVX2 and FMA listed in /proc/cpuinfo: cannot force OpenBLAS's Haswell kernels")
	}
	// A user's OPENBLAS_CORETYPE always wins, and SelectCore then keeps
	// the process image (no re-execution).
	core, threads, reexec := runChild(t, "user", EnvCoreType+"=Haswell")
	if !strings.EqualFold(core, "Haswell") || reexec != "" {
		t.Errorf("OPENBLAS_CORETYPE=Haswell: core %s, re-executed %q; want Haswell without re-execution", core, reexec)
	}
	if threads != "1" {
		t.Errorf("no thread count set: OpenBLAS uses %s threads, want 1", threads)
	}
	// SPMD_OPENBLAS_CORETYPE=NAME re-executes with that core.
	core, _, reexec = runChild(t, "named", EnvSelect+"=Haswell")
	if !strings.EqualFold(core, "Haswell") {
		t.Errorf("%s=Haswell: core %s, re-executed %q; want Haswell", EnvSelect, core, reexec)
	}
	// keep: OpenBLAS's own choice, no re-execution.
	_, _, reexec = runChild(t, "keep", EnvSelect+"=keep")
	if reexec != "" {
		t.Errorf("%s=keep re-executed", EnvSelect)
	}
	// The user's thread count is kept.
	if _, threads, _ = runChild(t, "threads", EnvNumThreads+"=2", EnvSelect+"=keep"); threads != "2" {
		t.Errorf("OPENBLAS_NUM_THREADS=2: OpenBLAS uses %s threads", threads)
	}

	if !hasAVX512() {
		t.Skip("the CPU lacks AVX-512 F/DQ/VL/BW/CD: the automatic choice keeps OpenBLAS's")
	}
	// Automatic: OpenBLAS loaded with Haswell kernels on an AVX-512 CPU is
	// re-executed with SkylakeX.
	core, _, reexec = runChild(t, "auto-from-haswell", EnvCoreType+"=Haswell")
	if !strings.EqualFold(core, avx512Core) || reexec != "1" {
		t.Errorf("automatic choice from Haswell on an AVX-512 CPU: core %s, re-executed %q; want %s after re-execution", core, reexec, avx512Core)
	}
	// Automatic with nothing set: AVX-512 kernels whichever way.
	if core, _, _ = runChild(t, "auto"); !avx512Cores[strings.ToLower(core)] {
		t.Errorf("automatic choice on an AVX-512 CPU: core %s", core)
	}
}

func TestCpuinfoHas(t *testing.T) {
	info := "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512dq avx512cd avx512bw avx512vl\n\nprocessor\t: 1\nflags\t\t: fpu\n"
	if !cpuinfoHas(info, avx512Flags) {
		t.Error("all AVX-512 flags listed, not found")
	}
	if cpuinfoHas(strings.Replace(info, "avx512bw ", "", 1), avx512Flags) {
		t.Error("avx512bw missing, reported present")
	}
	if cpuinfoHas("processor: 0\n", avx512Flags) {
		t.Error("no flags line, reported present")
	}
}
