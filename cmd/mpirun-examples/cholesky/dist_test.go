package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
)

// TestDemoDist runs the demo with -dist sbc and -dist both on 2 ranks
// (extended SBC, r = 2) and checks the residuals and the SBC fields.
func TestDemoDist(t *testing.T) {
	bin := jobtest.Build(t)
	for _, d := range []string{"sbc", "both"} {
		args := []string{"-n", "301", "-nb", "40", "-dist", d, "-json", "-dgemm=false"}
		out, stderr, err := mpirun(t, bin, 2, args...)
		if err != nil {
			t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, stderr)
		}
		var rep struct {
			Residual *float64       `json:"residual"`
			Split    map[string]any `json:"split"`
			Extra    map[string]any `json:"extra"`
		}
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &rep); err != nil {
			t.Fatalf("%v: %v in %s", args, err, out)
		}
		if rep.Residual == nil || !(*rep.Residual < 30) {
			t.Errorf("%v: residual %v, want < 30", args, rep.Residual)
		}
		if rep.Extra["dist"] != d || rep.Extra["sbc_r"] != 2.0 || rep.Extra["sbc_extended"] != true {
			t.Errorf("%v: extra %v, want dist %s on extended SBC r=2", args, rep.Extra, d)
		}
		if d != "both" {
			continue
		}
		if b, ok := rep.Extra["sbc_bytes_sent"].(float64); !ok || !(b > 0) {
			t.Errorf("%v: sbc_bytes_sent %v, want > 0", args, rep.Extra["sbc_bytes_sent"])
		}
		if r, ok := rep.Extra["sbc_residual"].(float64); !ok || !(r < 30) {
			t.Errorf("%v: sbc_residual %v, want < 30", args, rep.Extra["sbc_residual"])
		}
		if b, ok := rep.Split["bytes_sent"].(float64); !ok || !(b > 0) {
			t.Errorf("%v: the grid's bytes_sent %v, want > 0", args, rep.Split["bytes_sent"])
		}
	}
	out, stderr, err := mpirun(t, bin, 2, "-n", "10", "-dgemm=false", "-dist", "pigeon")
	if err == nil || !strings.Contains(stderr, `-dist "pigeon"`) {
		t.Errorf("-dist pigeon: error %v, stderr:\n%s\nstdout:\n%s", err, stderr, out)
	}
}
