package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/internal/mpitest"
)

// TestChainJSON runs the chain under mpirun at 2 and 3 ranks (the third
// rank takes no part in the reference loops) and checks its JSON: the
// runtime's hop, the Go ping-pong and the C reference loops, all positive
// and consistent with one another.
func TestChainJSON(t *testing.T) {
	if mpitest.InJob() {
		t.Skip("already inside an MPI job; this test starts its own mpirun")
	}
	bin := filepath.Join(t.TempDir(), "dag")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, np := range []int{2, 3} {
		launcher, largs, err := mpitest.Launcher(np)
		if err != nil {
			t.Skip(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		args := append(largs, bin, "-transport", "mpi", "-shape", "chain", "-tasks", "2000", "-reps", "2", "-pingpong", "2000", "-json")
		c := exec.CommandContext(ctx, launcher, args...)
		var stdout, stderr bytes.Buffer
		c.Stdout, c.Stderr = &stdout, &stderr
		err = c.Run()
		cancel()
		if err != nil {
			t.Fatalf("np %d: %v\nstdout:\n%s\nstderr:\n%s", np, err, stdout.String(), stderr.String())
		}
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("np %d: want 2 JSON lines (one per repetition) from rank 0, got:\n%s", np, stdout.String())
		}
		for _, l := range lines {
			var r result
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatalf("np %d: %v in %s", np, err, l)
			}
			if r.Shape != "chain" || r.Ranks != np || r.Tasks != 2000 {
				t.Errorf("np %d: shape %q ranks %d tasks %d in %s", np, r.Shape, r.Ranks, r.Tasks, l)
			}
			for name, v := range map[string]float64{"hop_us": r.HopUS, "pingpong_us": r.PingPongUS, "pingpong_before_us": r.PingPongBeforeUS,
				"pingpong_after_us": r.PingPongAfterUS, "c_pingpong_us": r.CPingPongUS, "c_hop_us": r.CHopUS} {
				if !(v > 0 && v < 1e4) {
					t.Errorf("np %d: %s = %v, want a positive time in us", np, name, v)
				}
			}
			if want := (r.PingPongBeforeUS + r.PingPongAfterUS) / 2; r.PingPongUS < want*0.999 || r.PingPongUS > want*1.001 {
				t.Errorf("np %d: pingpong_us %v, want the mean of before and after, %v", np, r.PingPongUS, want)
			}
			if want := r.HopUS / r.PingPongUS; r.HopToPP < want*0.999 || r.HopToPP > want*1.001 {
				t.Errorf("np %d: hop_ratio_to_pingpong %v, want hop_us / pingpong_us = %v", np, r.HopToPP, want)
			}
			if want := r.HopUS / r.CHopUS; r.HopToCHop < want*0.999 || r.HopToCHop > want*1.001 {
				t.Errorf("np %d: hop_ratio_to_c_hop %v, want hop_us / c_hop_us = %v", np, r.HopToCHop, want)
			}
		}
	}
}
