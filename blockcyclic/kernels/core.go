package kernels

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// Environment variables SelectCore reads and sets.
const (
	// EnvCoreType is OpenBLAS's own kernel override, read once when the
	// shared library loads. A value the user sets always wins.
	EnvCoreType = "OPENBLAS_CORETYPE"
	// EnvSelect controls SelectCore: unset or "auto" picks the AVX-512
	// kernels where the CPU has them and OpenBLAS did not pick them;
	// "keep" (or "off", "0") keeps whatever OpenBLAS picked; any other
	// value is a core name to ask OpenBLAS for, as OPENBLAS_CORETYPE would.
	EnvSelect = "SPMD_OPENBLAS_CORETYPE"
	// EnvNumThreads is OpenBLAS's thread count, read when it loads.
	EnvNumThreads = "OPENBLAS_NUM_THREADS"
	// envReexec marks the process image started by SelectCore, so that it
	// never re-executes twice.
	envReexec = "SPMD_OPENBLAS_REEXEC"
)

// avx512Core is the OpenBLAS kernel set SelectCore asks for on CPUs with
// AVX-512 F, DQ, VL, BW and CD (Skylake-SP and later Xeons).
const avx512Core = "SkylakeX"

// avx512Cores are the OpenBLAS 0.3 core names that already use AVX-512
// level-3 kernels, lower case.
var avx512Cores = map[string]bool{"skylakex": true, "cooperlake": true, "sapphirerapids": true}

// avx512Flags are the /proc/cpuinfo flags OpenBLAS's SkylakeX kernels need.
var avx512Flags = []string{"avx512f", "avx512dq", "avx512vl", "avx512bw", "avx512cd"}

// threadEnvSet reports whether the user set OpenBLAS's thread count.
func threadEnvSet() bool {
	for _, v := range []string{EnvNumThreads, "GOTO_NUM_THREADS", "OMP_NUM_THREADS"} {
		if os.Getenv(v) != "" {
			return true
		}
	}
	return false
}

// SelectCore makes OpenBLAS use its best kernels on this CPU. Call it first
// thing in main, before mpi.Init and before any goroutine starts work:
//
//	func main() {
//		kernels.SelectCore()
//		...
//		fmt.Println("OpenBLAS kernels:", kernels.CoreName())
//	}
//
// OpenBLAS chooses its kernels when the shared library loads, before Go
// runs, and reads OPENBLAS_CORETYPE only then. Debian's OpenBLAS 0.3.21 does
// not recognise recent Xeons and falls back to its Haswell (AVX2) kernels,
// about 1.7 times slower in DGEMM than its SkylakeX (AVX-512) ones. When
// OPENBLAS_CORETYPE is unset, the CPU has AVX-512 F, DQ, VL, BW and CD, and
// OpenBLAS picked a core without AVX-512 kernels, SelectCore re-executes the
// program in place (execve of /proc/self/exe with the same arguments and
// environment plus OPENBLAS_CORETYPE=SkylakeX). The process keeps its PID,
// file descriptors and MPI launcher environment, so this is safe under
// mpirun as long as MPI is not yet initialised. On success it does not
// return.
//
// Overrides: OPENBLAS_CORETYPE set by the user always wins (SelectCore
// leaves it alone); SPMD_OPENBLAS_CORETYPE=keep keeps OpenBLAS's own
// choice; SPMD_OPENBLAS_CORETYPE=NAME asks for kernel set NAME (for example
// Haswell) as OPENBLAS_CORETYPE=NAME would.
//
// SelectCore also sets OPENBLAS_NUM_THREADS=1 in the environment when no
// thread count is set, so the re-executed image and any child starts with
// one OpenBLAS thread (the package already set 1 for this process).
//
// It returns an error only if the re-execution failed; the program can go
// on with the kernels it has. Without cgo, or off Linux, it does nothing.
func SelectCore() error {
	if !threadEnvSet() {
		os.Setenv(EnvNumThreads, "1")
	}
	want, _ := coreWanted()
	if want == "" {
		return nil
	}
	env := append(os.Environ(), EnvCoreType+"="+want, envReexec+"=1")
	err := syscall.Exec("/proc/self/exe", os.Args, env)
	return fmt.Errorf("kernels: re-executing with %s=%s to pick OpenBLAS's %s kernels: %w", EnvCoreType, want, want, err)
}

// coreWanted decides whether SelectCore should re-execute, and with which
// core type; "" means no, with the reason.
func coreWanted() (core, reason string) {
	if !Cgo {
		return "", "built without cgo: no OpenBLAS"
	}
	if v := os.Getenv(EnvCoreType); v != "" {
		return "", EnvCoreType + " is set"
	}
	if os.Getenv(envReexec) != "" {
		return "", "already re-executed"
	}
	have := strings.ToLower(CoreName())
	switch sel := os.Getenv(EnvSelect); strings.ToLower(sel) {
	case "keep", "off", "0", "no", "false":
		return "", EnvSelect + "=" + sel
	case "", "auto":
	default:
		if strings.EqualFold(sel, have) {
			return "", "OpenBLAS already uses " + sel
		}
		return sel, EnvSelect + "=" + sel
	}
	if avx512Cores[have] {
		return "", "OpenBLAS already uses AVX-512 kernels"
	}
	if !hasAVX512() {
		return "", "the CPU lacks AVX-512 F/DQ/VL/BW/CD"
	}
	return avx512Core, "the CPU has AVX-512 but OpenBLAS picked " + CoreName()
}

// hasAVX512 reports whether /proc/cpuinfo lists every flag of avx512Flags
// for the first processor (false where the file cannot be read). The kernel
// lists a flag only when the OS also saves the AVX-512 state.
func hasAVX512() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return false
	}
	return cpuinfoHas(string(b), avx512Flags)
}

// cpuinfoHas reports whether the first "flags" line of a /proc/cpuinfo text
// lists every flag of want.
func cpuinfoHas(cpuinfo string, want []string) bool {
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) != "flags" {
			continue
		}
		have := map[string]bool{}
		for _, f := range strings.Fields(v) {
			have[f] = true
		}
		for _, f := range want {
			if !have[f] {
				return false
			}
		}
		return true
	}
	return false
}

// CoreReport describes the kernels in use in one line for programs to
// print, for example
//
//	OpenBLAS SkylakeX kernels, 1 thread (OPENBLAS_CORETYPE=SkylakeX set by kernels.SelectCore; OpenBLAS 0.3.21 ...)
func CoreReport() string {
	src := "chosen by OpenBLAS"
	if v := os.Getenv(EnvCoreType); v != "" {
		src = EnvCoreType + "=" + v
		if os.Getenv(envReexec) != "" {
			src += " set by kernels.SelectCore"
		}
	}
	if !Cgo {
		return Config()
	}
	th := "threads"
	if NumThreads() == 1 {
		th = "thread"
	}
	return fmt.Sprintf("OpenBLAS %s kernels, %d %s (%s; %s)", CoreName(), NumThreads(), th, src, strings.TrimSpace(Config()))
}
