package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
)

// TestProgram runs the program small on 2 ranks and checks its JSON: the
// loss per epoch falls, the accuracy is high, the timings and the hidden
// fraction are sane, and the text mode prints one line per epoch.
func TestProgram(t *testing.T) {
	bin := jobtest.Build(t)
	out := jobtest.Run(t, bin, 2, time.Minute, "-epochs", "3", "-samples", "1024", "-batch", "64", "-hidden", "32", "-json")
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	if r.Ranks != 2 || r.Epochs != 3 || r.Batch != 64 || r.Hidden != 32 {
		t.Errorf("report echoes ranks %d epochs %d batch %d hidden %d, want 2 3 64 32", r.Ranks, r.Epochs, r.Batch, r.Hidden)
	}
	if len(r.Loss) != 3 || !(r.Loss[2] < r.Loss[0]) {
		t.Errorf("loss per epoch %v: want 3 values, falling", r.Loss)
	}
	if r.Accuracy < 0.8 {
		t.Errorf("accuracy %v, want >= 0.8", r.Accuracy)
	}
	if len(r.EpochSeconds) != 3 || r.MedianEpochS <= 0 {
		t.Errorf("epoch times %v, median %v", r.EpochSeconds, r.MedianEpochS)
	}
	if r.CommSeconds <= 0 || r.HiddenFraction < 0 || r.HiddenFraction > 1 || r.HiddenSeconds > r.CommSeconds {
		t.Errorf("communication %vs, hidden %vs (fraction %v): want comm > 0 and a fraction in [0, 1]", r.CommSeconds, r.HiddenSeconds, r.HiddenFraction)
	}
	text := jobtest.Run(t, bin, 2, time.Minute, "-epochs", "2", "-samples", "512", "-batch", "64", "-hidden", "16")
	if n := strings.Count(text, "\nepoch "); n != 2 {
		t.Errorf("text output has %d epoch lines, want 2:\n%s", n, text)
	}
}
