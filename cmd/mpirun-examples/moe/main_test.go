package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/spmd-go/spmd/cmd/mpirun-examples/internal/jobtest"
)

// TestProgram runs both placements small on 2 ranks and checks the JSON:
// the echoed configuration, positive step time, an imbalance of at least 1,
// outputs equal to the serial computation, and dynamic placement making
// more chunks than static under skew.
func TestProgram(t *testing.T) {
	bin := jobtest.Build(t)
	var got [2]report
	for i, pl := range []string{"static", "dynamic"} {
		out := jobtest.Run(t, bin, 2, time.Minute, "-placement", pl, "-zipf", "1.2", "-experts", "4", "-tokens", "256",
			"-dim", "16", "-hidden", "32", "-topk", "2", "-steps", "3", "-json")
		r := &got[i]
		if err := json.Unmarshal([]byte(out), r); err != nil {
			t.Fatalf("%s: output is not one JSON object: %v\n%s", pl, err, out)
		}
		if r.Placement != pl || r.Zipf != 1.2 || r.Ranks != 2 || r.Experts != 4 || r.Tokens != 256 || r.TopK != 2 || r.Steps != 3 {
			t.Errorf("%s: report echoes %+v", pl, *r)
		}
		if r.StepSeconds <= 0 || len(r.AllSteps) != 3 || len(r.Busy) != 2 {
			t.Errorf("%s: step %v, steps %v, busy %v", pl, r.StepSeconds, r.AllSteps, r.Busy)
		}
		if r.Imbalance < 1 || r.Imbalance > 2 {
			t.Errorf("%s: imbalance %v outside [1, P]", pl, r.Imbalance)
		}
		if r.MaxError != 0 {
			t.Errorf("%s: outputs differ from the serial computation by %v", pl, r.MaxError)
		}
	}
	if got[1].TokenImb > 1+2.0/(256*2*2) || got[0].TokenImb <= got[1].TokenImb {
		t.Errorf("token imbalance: static %v, dynamic %v: want dynamic at the mean (to a token) and static above it", got[0].TokenImb, got[1].TokenImb)
	}
	if got[0].Chunks[0] != 4 || got[1].Chunks[0] <= 4 {
		t.Errorf("chunks per step: static %v (want 4), dynamic %v (want more)", got[0].Chunks, got[1].Chunks)
	}
}
