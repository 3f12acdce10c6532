package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSizes(t *testing.T) {
	for _, c := range []struct {
		arg  string
		want []int
	}{
		{"1:8", []int{1, 2, 4, 8}},
		{"0:4", []int{0, 1, 2, 4}},
		{"16", []int{1, 2, 4, 8, 16}},
		{"3:12", []int{3, 6, 12}},
		{"1024:1024", []int{1024}},
	} {
		_, o, err := parseArgs([]string{"bcast", "-m", c.arg}, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("-m %s: %v", c.arg, err)
		}
		if got := o.sizes(); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("-m %s: sizes %v, want %v", c.arg, got, c.want)
		}
	}
}

func TestParseArgsErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-m", "1:2"},
		{"nosuch"},
		{"latency", "-m", "8:4"},
		{"latency", "-m", "x"},
		{"latency", "-f"},
		{"put-latency", "-f"},
		{"bw", "-W", "0"},
		{"allreduce", "-i", "-1"},
		{"allreduce", "-thread", "many"},
		{"allreduce", "extra"},
		{"alltoall", "-algorithm", "ring"},
		{"latency", "-algorithm", "binomial"},
		{"bcast", "-algorithm", "ring"},
		{"allreduce", "-algorithm", "chain"},
		{"reduce", "-algorithm", "nosuch"},
		{"bcast", "-algorithm", "binomial,chain", "-f"},
		{"bcast", "-algorithm", "binomial,chain", "-compare-c"},
		{"alltoallv", "-algorithm", "ring"},
		{"iallgather", "-algorithm", "native"},
		{"ialltoall", "-algorithm", "direct"},
		{"iallreduce", "-algorithm", "ring,native"},
		{"iallreduce", "-f"},
		{"ibcast", "-f", "-compare-c"},
		{"put-latency", "-w", "shared"},
		{"put-latency", "-s", "flush_all"},
		{"get-bw", "-s", "pscw", "-compare-c"},
		{"acc-latency", "-w", "dynamic", "-compare-c"},
		{"allreduce", "-w", "create"},
		{"latency", "-s", "fence"},
	} {
		if _, _, err := parseArgs(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parseArgs(%q) succeeded, want an error", args)
		}
	}
}

func TestParseAlgorithms(t *testing.T) {
	_, o, err := parseArgs([]string{"reduce", "-algorithm", "mpi, native,binomial,rabenseifner,default"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range o.algs {
		names = append(names, a.name)
	}
	if got := strings.Join(names, " "); got != "mpi native binomial rabenseifner default" || !o.algs[0].mpi || o.algs[1].mpi {
		t.Errorf("algorithms %q (mpi flags %v %v)", got, o.algs[0].mpi, o.algs[1].mpi)
	}
}

func TestSchedule(t *testing.T) {
	lat := findTest("latency")
	o := &options{skip: -1}
	if it, sk := o.schedule(lat, 8192); it != 10000 || sk != 1000 {
		t.Errorf("latency 8192: %d/%d, want 10000/1000", it, sk)
	}
	if it, sk := o.schedule(lat, 16384); it != 1000 || sk != 100 {
		t.Errorf("latency 16384: %d/%d, want 1000/100", it, sk)
	}
	o = &options{iters: 7, skip: 0}
	if it, sk := o.schedule(lat, 16384); it != 7 || sk != 0 {
		t.Errorf("latency -i 7 -x 0: %d/%d", it, sk)
	}
}

// osuBinary builds the command once per test binary run.
func osuBinary(t *testing.T) string {
	t.Helper()
	mpirun, err := exec.LookPath("mpirun")
	if err != nil {
		t.Skip("mpirun not found: install openmpi-bin (scripts/setup.sh) to run the osu tests")
	}
	_ = mpirun
	if os.Getenv("OMPI_COMM_WORLD_SIZE") != "" || os.Getenv("PMI_SIZE") != "" {
		t.Skip("already inside an MPI job; these tests start their own mpirun")
	}
	bin := filepath.Join(t.TempDir(), "osu")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// mpirunOSU runs the osu command on np ranks and returns its standard
// output.
func mpirunOSU(t *testing.T, bin string, np int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := []string{"-np", strconv.Itoa(np)}
	if os.Geteuid() == 0 {
		cmd = append([]string{"--allow-run-as-root"}, cmd...)
	}
	cmd = append([]string{"--oversubscribe"}, cmd...)
	cmd = append(append(cmd, bin), args...)
	c := exec.CommandContext(ctx, "mpirun", cmd...)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		t.Fatalf("mpirun %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(cmd, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

var rowRE = regexp.MustCompile(`^\d+ *$`)

// checkTable checks the OSU layout: an empty line, the title, the datatype
// line, the column headers, then one row per size with the size in %-10d
// and each value in %20.2f (the ratio %20.3f), sizes doubling from first,
// values positive.
func checkTable(t *testing.T, out, title, header string, cols, first, last int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	want := []string{"", "# spmd Go " + title, "# Datatype: MPI_CHAR.", header}
	if len(lines) < len(want) {
		t.Fatalf("output too short:\n%s", out)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	size := first
	rows := lines[len(want):]
	for _, l := range rows {
		if len(l) != sizeWidth+cols*fieldWidth {
			t.Errorf("row %q has %d characters, want %d", l, len(l), sizeWidth+cols*fieldWidth)
			continue
		}
		if !rowRE.MatchString(l[:sizeWidth]) {
			t.Errorf("row %q: size column %q is not a left-aligned integer", l, l[:sizeWidth])
		}
		if n, _ := strconv.Atoi(strings.TrimSpace(l[:sizeWidth])); n != size {
			t.Errorf("row %q: size %d, want %d", l, n, size)
		}
		size *= 2
		for c := 0; c < cols; c++ {
			f := l[sizeWidth+c*fieldWidth : sizeWidth+(c+1)*fieldWidth]
			if f[0] != ' ' {
				t.Errorf("row %q: column %d %q fills its width", l, c, f)
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || v <= 0 {
				t.Errorf("row %q: column %d %q is not a positive number", l, c, f)
			}
			if d := len(f) - strings.IndexByte(f, '.') - 1; d != 2 && !(c == cols-1 && d == 3) {
				t.Errorf("row %q: column %d %q has %d decimals", l, c, f, d)
			}
		}
	}
	if size != 2*last {
		t.Errorf("rows end before size %d:\n%s", last, out)
	}
}

// checkOneSided checks the layout of a one-sided test: no empty line
// first, the title, the window creation and synchronisation lines, then
// what checkTable checks.
func checkOneSided(t *testing.T, out, title, header string, cols, first, last int) {
	t.Helper()
	lines := strings.SplitN(out, "\n", 4)
	want := []string{"# spmd Go " + title, "# Window creation: MPI_Win_allocate", "# Synchronization: MPI_Win_flush"}
	if len(lines) < 4 {
		t.Fatalf("output too short:\n%s", out)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	checkTable(t, "\n"+lines[0]+"\n"+lines[3], title, header, cols, first, last)
}

// bwCompareHeader is the column header of a bandwidth test with -compare-c.
var bwCompareHeader = fmt.Sprintf("%-*s%*s%*s%*s", sizeWidth, "# Size", headerWidth, "Bandwidth (MB/s)",
	fieldWidth, "C Bandwidth(MB/s)", fieldWidth, "Go/C")

func TestMpirunTables(t *testing.T) {
	bin := osuBinary(t)
	t.Run("latency", func(t *testing.T) {
		out := mpirunOSU(t, bin, 2, "latency", "-m", "1:64", "-i", "50", "-x", "5")
		checkTable(t, out, "MPI Latency Test", "# Size       Avg Latency(us)", 1, 1, 64)
	})
	t.Run("bw-compare-c", func(t *testing.T) {
		out := mpirunOSU(t, bin, 2, "bw", "-m", "1024:4096", "-i", "5", "-x", "1", "-W", "8", "-compare-c")
		checkTable(t, out, "MPI Bandwidth Test",
			bwCompareHeader, 3, 1024, 4096)
	})
	t.Run("allreduce-full-compare-c", func(t *testing.T) {
		out := mpirunOSU(t, bin, 2, "allreduce", "-m", "4:32", "-i", "20", "-x", "2", "-f", "-compare-c")
		lines := strings.Split(out, "\n")
		want := fmt.Sprintf("%-*s%*s%*s%*s%*s%*s%*s", sizeWidth, "# Size", headerWidth, "Avg Latency(us)",
			fieldWidth, "Min Latency(us)", fieldWidth, "Max Latency(us)", itersWidth, "Iterations",
			fieldWidth, "C Latency(us)", fieldWidth, "Go/C")
		if len(lines) < 4 || lines[3] != want {
			t.Fatalf("header:\n%s\nwant\n%s", out, want)
		}
		// The Iterations column is 12 wide: check it, then drop it so
		// that checkTable sees value columns only.
		for i := 4; i < len(lines) && lines[i] != ""; i++ {
			at := sizeWidth + 3*fieldWidth
			if it := strings.TrimSpace(lines[i][at : at+itersWidth]); it != "20" {
				t.Errorf("row %q: iterations %q, want 20", lines[i], it)
			}
			lines[i] = lines[i][:at] + lines[i][at+itersWidth:]
		}
		lines[3] = fmt.Sprintf("%-*s%*s", sizeWidth, "# Size", headerWidth, "Avg Latency(us)")
		checkTable(t, strings.Join(lines, "\n"), "MPI Allreduce Latency Test", lines[3], 5, 4, 32)
	})
	t.Run("bcast-algorithm-compare-c", func(t *testing.T) {
		out := mpirunOSU(t, bin, 3, "bcast", "-m", "1:4096", "-i", "10", "-x", "1", "-algorithm", "chain", "-compare-c")
		checkTable(t, out, "MPI Broadcast Latency Test (algorithm: chain)", fmt.Sprintf("%-*s%*s%*s%*s", sizeWidth, "# Size",
			headerWidth, "Avg Latency(us)", fieldWidth, "C Latency(us)", fieldWidth, "Go/C"), 3, 1, 4096)
	})
	t.Run("allreduce-algorithms", func(t *testing.T) {
		out := mpirunOSU(t, bin, 3, "allreduce", "-m", "4:64", "-i", "10", "-x", "1", "-algorithm",
			"mpi,native,ring,recursive-doubling,rabenseifner")
		checkTable(t, out, "MPI Allreduce Latency Test (algorithms: mpi, native, ring, recursive-doubling, rabenseifner)",
			fmt.Sprintf("%-*s%*s%*s%*s%*s%*s", sizeWidth, "# Size", headerWidth, "mpi", fieldWidth, "native",
				fieldWidth, "ring", fieldWidth, "recursive-doubling", fieldWidth, "rabenseifner"), 5, 4, 64)
	})
	t.Run("put-latency", func(t *testing.T) {
		out := mpirunOSU(t, bin, 2, "put-latency", "-m", "1:16", "-i", "50", "-x", "5")
		checkOneSided(t, out, "MPI_Put Latency Test", "# Size          Latency (us)", 1, 1, 16)
	})
	t.Run("get-bw-compare-c", func(t *testing.T) {
		out := mpirunOSU(t, bin, 2, "get-bw", "-m", "64:256", "-i", "5", "-x", "1", "-W", "8", "-compare-c")
		checkOneSided(t, out, "MPI_Get Bandwidth Test",
			bwCompareHeader, 3, 64, 256)
	})
	t.Run("barrier", func(t *testing.T) {
		out := mpirunOSU(t, bin, 3, "barrier", "-i", "20", "-x", "2")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 4 || lines[0] != "" || lines[1] != "# spmd Go MPI Barrier Latency Test" ||
			lines[2] != "# Avg Latency(us)" || len(lines[3]) != barrierWidth {
			t.Fatalf("barrier output:\n%q", out)
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(lines[3]), 64); err != nil || v <= 0 {
			t.Errorf("barrier value %q", lines[3])
		}
	})
}

func TestMpirunJSON(t *testing.T) {
	bin := osuBinary(t)
	for _, c := range []struct {
		args  []string
		np    int
		unit  string
		sizes []int
		coll  bool
	}{
		{[]string{"bibw", "-m", "1:4", "-i", "5", "-x", "1", "-W", "4", "-compare-c"}, 2, "MB/s", []int{1, 2, 4}, false},
		{[]string{"bcast", "-m", "8:16", "-i", "10", "-x", "1", "-compare-c"}, 3, "us", []int{8, 16}, true},
		{[]string{"reduce", "-m", "8:16", "-i", "10", "-x", "1", "-compare-c", "-algorithm", "binomial"}, 3, "us", []int{8, 16}, true},
	} {
		out := mpirunOSU(t, bin, c.np, append(c.args, "-json")...)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != len(c.sizes) {
			t.Fatalf("%v: %d lines, want %d:\n%s", c.args, len(lines), len(c.sizes), out)
		}
		for i, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("%v: line %q: %v", c.args, l, err)
			}
			for _, k := range []string{"test", "size", "value", "unit", "ranks", "iterations", "warmup", "c_value", "ratio"} {
				if _, ok := m[k]; !ok {
					t.Errorf("%v: line %q lacks %q", c.args, l, k)
				}
			}
			if want := c.args[len(c.args)-1]; c.args[len(c.args)-2] == "-algorithm" && m["algorithm"] != want {
				t.Errorf("%v: line %q: algorithm %v, want %q", c.args, l, m["algorithm"], want)
			}
			if _, ok := m["min"]; ok != c.coll {
				t.Errorf("%v: line %q: has min = %v, want %v", c.args, l, ok, c.coll)
			}
			if m["test"] != c.args[0] || m["unit"] != c.unit || m["size"] != float64(c.sizes[i]) ||
				m["ranks"] != float64(c.np) || m["iterations"] != float64(10) && m["iterations"] != float64(5) {
				t.Errorf("%v: line %q has wrong fields", c.args, l)
			}
			for _, k := range []string{"value", "c_value", "ratio"} {
				if v, _ := m[k].(float64); v <= 0 {
					t.Errorf("%v: line %q: %s = %v, want > 0", c.args, l, k, m[k])
				}
			}
		}
	}
}

func TestParseOneSided(t *testing.T) {
	_, o, err := parseArgs([]string{"get-bw", "-w", "dynamic", "-s", "lock_all"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.win != winDynamic || o.sync != syncLockAll {
		t.Errorf("-w dynamic -s lock_all: win %d sync %d", o.win, o.sync)
	}
	if len(winHeaders) != len(winNames) || len(syncHeaders) != len(syncNames) {
		t.Fatalf("name and header tables differ in length")
	}
	_, o, err = parseArgs([]string{"put-latency", "-compare-c"}, &bytes.Buffer{})
	if err != nil || o.win != winAllocate || o.sync != syncFlush {
		t.Errorf("defaults: %v, win %d sync %d", err, o.win, o.sync)
	}
}

func TestOverlap(t *testing.T) {
	for _, c := range []struct{ overall, compute, comm, want float64 }{
		{10, 5, 5, 0},    // nothing overlapped
		{6, 5, 5, 80},    // 1 of 5 us of communication left over
		{5, 5, 5, 100},   // all of it hidden
		{20, 5, 5, 0},    // worse than serial: clamped at 0
		{4.9, 5, 5, 100}, // timer noise: clamped at 100
		{1, 1, 0, 0},
	} {
		if got := overlap(c.overall, c.compute, c.comm); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("overlap(%v, %v, %v) = %v, want %v", c.overall, c.compute, c.comm, got, c.want)
		}
	}
}

// checkNonblocking checks the layout of a nonblocking collective test: the
// title, OSU's definition of Overall, the datatype line, the five column
// headers, then one row per size from first to last with four values:
// three positive times and an overlap within [0, 100], overall at least
// the compute time. With compareC three columns follow: the C loop's
// positive overall time, its overlap within [0, 100] and the positive
// Go/C ratio (%18.3f). A barrier (first and last 0) has no datatype line
// and no size column: one row of values, as osu_ibarrier prints.
func checkNonblocking(t *testing.T, out, title string, compareC bool, first, last int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	// OSU's four 18-wide columns (shared/osu-format.md), headers and values.
	header := "# Size           Overall(us)       Compute(us)    Pure Comm.(us)        Overlap(%)"
	cols := 4
	if compareC {
		header += "     C Overall(us)      C Overlap(%)              Go/C"
		cols = 7
	}
	want := []string{"", "# spmd Go " + title, "# Overall = Coll. Init + Compute + MPI_Test + MPI_Wait", "",
		"# Datatype: MPI_CHAR.", header}
	sizeW := sizeWidth
	if last == 0 {
		want = append(want[:4], header[sizeWidth:])
		sizeW = 0
	}
	if len(lines) < len(want) {
		t.Fatalf("output too short:\n%s", out)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d = %q, want %q", i, lines[i], w)
		}
	}
	size := first
	for _, l := range lines[len(want):] {
		if len(l) != sizeW+cols*nbWidth {
			t.Errorf("row %q has %d characters, want %d", l, len(l), sizeW+cols*nbWidth)
			continue
		}
		if sizeW == 0 {
			size = 1 // the one row of a barrier
		} else if n, err := strconv.Atoi(strings.TrimSpace(l[:sizeW])); err != nil || n != size || l[0] == ' ' {
			t.Errorf("row %q: size column %q, want %d left-aligned", l, l[:sizeW], size)
		}
		size *= 2
		v := make([]float64, cols)
		for c := range v {
			f := l[sizeW+c*nbWidth : sizeW+(c+1)*nbWidth]
			var err error
			v[c], err = strconv.ParseFloat(strings.TrimSpace(f), 64)
			decimals := 2
			if c == 6 {
				decimals = 3
			}
			if err != nil || f[0] != ' ' || len(f)-strings.IndexByte(f, '.')-1 != decimals {
				t.Errorf("row %q: column %d %q is not a %%18.%df number", l, c, f, decimals)
			}
		}
		if compareC && (v[4] <= 0 || v[5] < 0 || v[5] > 100 || v[6] < 0) {
			t.Errorf("row %q: C overall %v, C overlap %v, Go/C %v", l, v[4], v[5], v[6])
		}
		if compareC && v[4] > 0 && v[0] > 0 {
			// Go/C is the ratio of the overall times, up to the rounding of
			// the three printed values (it may print 0.000 when the C loop
			// was descheduled for milliseconds).
			want := v[0] / v[4]
			if tol := 0.0005 + want*(0.005/v[0]+0.005/v[4]) + 1e-9; math.Abs(v[6]-want) > tol {
				t.Errorf("row %q: Go/C %v, want overall/C overall = %.4f", l, v[6], want)
			}
		}
		if v[0] <= 0 || v[1] <= 0 || v[2] <= 0 {
			t.Errorf("row %q: times must be positive", l)
		}
		if v[0] < v[1] {
			t.Errorf("row %q: overall %v below compute %v", l, v[0], v[1])
		}
		if v[3] < 0 || v[3] > 100 {
			t.Errorf("row %q: overlap %v outside [0, 100]", l, v[3])
		}
	}
	if sizeW == 0 && size != 2 {
		t.Errorf("want one row:\n%s", out)
	} else if sizeW != 0 && size != 2*last {
		t.Errorf("rows end before size %d:\n%s", last, out)
	}
}

func TestMpirunNonblocking(t *testing.T) {
	bin := osuBinary(t)
	for _, c := range []struct {
		np    int
		args  []string
		title string
	}{
		{2, []string{"iallreduce", "-m", "1:64"}, "MPI Non-blocking Allreduce Latency Test"},
		{3, []string{"ibcast", "-m", "1:64", "-algorithm", "binomial"}, "MPI Non-blocking Broadcast Latency Test (algorithm: binomial)"},
		{3, []string{"ireduce", "-m", "4:16"}, "MPI Non-blocking Reduce Latency Test"},
		{2, []string{"iallgather", "-m", "4:16"}, "MPI Non-blocking Allgather Latency Test"},
		{3, []string{"ialltoall", "-m", "4:16"}, "MPI Non-blocking Alltoall Latency Test"},
		{2, []string{"iallreduce", "-m", "4:16", "-algorithm", "native"}, "MPI Non-blocking Allreduce Latency Test (algorithm: native)"},
		{3, []string{"iallreduce", "-m", "1:8", "-compare-c"}, "MPI Non-blocking Allreduce Latency Test"},
		{2, []string{"ialltoall", "-m", "4:8", "-compare-c", "-c-first"}, "MPI Non-blocking Alltoall Latency Test"},
		{3, []string{"ibarrier", "-m", "0:0"}, "MPI Non-blocking Barrier Latency Test"},
		{2, []string{"ibarrier", "-m", "0:0", "-compare-c"}, "MPI Non-blocking Barrier Latency Test"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			args := c.args
			if args[0] == "ibarrier" {
				args = append([]string{args[0]}, args[3:]...) // no sizes
			}
			out := mpirunOSU(t, bin, c.np, append(args, "-i", "20", "-x", "2")...)
			first, last, _ := strings.Cut(c.args[2], ":")
			f, _ := strconv.Atoi(first)
			l, _ := strconv.Atoi(last)
			checkNonblocking(t, out, c.title, len(c.args) > 3 && c.args[3] == "-compare-c", f, l)
		})
	}
	t.Run("json", func(t *testing.T) {
		out := mpirunOSU(t, bin, 2, "ireduce", "-m", "8:16", "-i", "10", "-x", "1", "-algorithm", "rabenseifner", "-json",
			"-compare-c")
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2:\n%s", len(lines), out)
		}
		for _, l := range lines {
			var m struct {
				Test, Algorithm           string
				Value, Compute            float64
				PureComm                  float64 `json:"pure_comm"`
				Overlap                   *float64
				CValue                    float64  `json:"c_value"`
				COverlap                  *float64 `json:"c_overlap"`
				Ratio                     float64
				Iterations, Warmup, Ranks int
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("line %q: %v", l, err)
			}
			if m.Test != "ireduce" || m.Algorithm != "rabenseifner" || m.Value <= 0 || m.Compute <= 0 || m.PureComm <= 0 ||
				m.Overlap == nil || *m.Overlap < 0 || *m.Overlap > 100 || m.Iterations != 10 || m.Warmup != 1 || m.Ranks != 2 ||
				m.CValue <= 0 || m.Ratio <= 0 || m.COverlap == nil || *m.COverlap < 0 || *m.COverlap > 100 {
				t.Errorf("line %q has wrong fields", l)
			}
		}
	})
}

func TestMpirunOneSidedModes(t *testing.T) {
	bin := osuBinary(t)
	for w := range winNames {
		for s := range syncNames {
			args := []string{"put-latency", "-m", "1:4", "-i", "20", "-x", "2", "-w", winNames[w], "-s", syncNames[s]}
			title, header := "MPI_Put Latency Test", "# Size          Latency (us)"
			// Every combination with put-latency, and a few with the
			// other operations and the bandwidth tests.
			switch {
			case w == int(winDynamic) && s == int(syncPSCW):
				args[0], title, header = "get-bw", "MPI_Get Bandwidth Test", "# Size      Bandwidth (MB/s)"
				args = append(args, "-W", "4")
			case w == int(winCreate) && s == int(syncFence):
				args[0], title = "acc-latency", "MPI_Accumulate latency Test"
			case w == int(winAllocate) && s == int(syncLock):
				args[0], title, header = "put-bw", "MPI_Put Bandwidth Test", "# Size      Bandwidth (MB/s)"
				args = append(args, "-W", "4")
			case w == int(winDynamic) && s == int(syncLockAll):
				args[0], title = "get-latency", "MPI_Get latency Test"
			}
			t.Run(winNames[w]+"-"+syncNames[s], func(t *testing.T) {
				out := mpirunOSU(t, bin, 2, args...)
				lines := strings.SplitN(out, "\n", 4)
				if len(lines) < 4 {
					t.Fatalf("output too short:\n%s", out)
				}
				for i, want := range []string{"# spmd Go " + title, "# Window creation: " + winHeaders[w],
					"# Synchronization: " + syncHeaders[s]} {
					if lines[i] != want {
						t.Errorf("line %d = %q, want %q", i, lines[i], want)
					}
				}
				checkTable(t, "\n"+lines[0]+"\n"+lines[3], title, header, 1, 1, 4)
			})
		}
	}
}

func TestMpirunAlltoallv(t *testing.T) {
	bin := osuBinary(t)
	t.Run("compare-c", func(t *testing.T) {
		out := mpirunOSU(t, bin, 3, "alltoallv", "-m", "1:64", "-i", "20", "-x", "2", "-compare-c")
		checkTable(t, out, "MPI Alltoallv Latency Test", fmt.Sprintf("%-*s%*s%*s%*s", sizeWidth, "# Size",
			headerWidth, "Avg Latency(us)", fieldWidth, "C Latency(us)", fieldWidth, "Go/C"), 3, 1, 64)
	})
	t.Run("algorithms", func(t *testing.T) {
		for _, test := range []string{"alltoall", "alltoallv"} {
			out := mpirunOSU(t, bin, 3, test, "-m", "4:16", "-i", "10", "-x", "1", "-algorithm", "mpi,native,direct")
			title := map[string]string{"alltoall": "MPI Alltoall Latency Test", "alltoallv": "MPI Alltoallv Latency Test"}[test]
			checkTable(t, out, title+" (algorithms: mpi, native, direct)", fmt.Sprintf("%-*s%*s%*s%*s", sizeWidth, "# Size",
				headerWidth, "mpi", fieldWidth, "native", fieldWidth, "direct"), 3, 4, 16)
		}
	})
}

// TestParseArgsMessages checks that the new options' errors name what was
// wrong.
func TestParseArgsMessages(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"put-latency", "-w", "shared"}, []string{`-w "shared"`, "allocate, create, dynamic"}},
		{[]string{"put-bw", "-s", "flush_all"}, []string{`-s "flush_all"`, "flush, flush_local, lock, lock_all, fence, pscw"}},
		{[]string{"get-bw", "-s", "pscw", "-compare-c"}, []string{"-compare-c", "-w allocate -s flush only", "-s pscw"}},
		{[]string{"allreduce", "-w", "create"}, []string{"one-sided", "allreduce"}},
		{[]string{"iallgather", "-algorithm", "native"}, []string{"-algorithm", "iallgather"}},
		{[]string{"iallreduce", "-algorithm", "ring,native"}, []string{"iallreduce", "single -algorithm"}},
		{[]string{"ireduce", "-f"}, []string{"-f", "ireduce"}},
		{[]string{"alltoallv", "-algorithm", "ring"}, []string{"alltoallv", "native", "direct"}},
	} {
		_, _, err := parseArgs(c.args, &bytes.Buffer{})
		if err == nil {
			t.Errorf("parseArgs(%q) succeeded", c.args)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("parseArgs(%q): error %q does not say %q", c.args, err, w)
			}
		}
	}
}
