package ludemo

import (
	"encoding/json"
	"fmt"
	"strings"
)

// CheckJSON checks the one JSON object the lu and solve demos print with
// -json: the routine and rank count given, a positive rate, a backward
// error in (0, Tol) and a growth factor in (0, n) (random and diagonally
// dominant inputs grow little), and the pivoting asked for. The demo tests
// call it on the output of a real run.
func CheckJSON(out, routine string, ranks int, pivoting string) error {
	var got struct {
		Routine  string         `json:"routine"`
		N        int            `json:"n"`
		Ranks    int            `json:"ranks"`
		GFlops   float64        `json:"gflops"`
		Residual float64        `json:"residual"`
		Extra    map[string]any `json:"extra"`
	}
	line := strings.TrimSpace(out)
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		return fmt.Errorf("output is not one JSON object: %v\n%s", err, out)
	}
	if got.Routine != routine || got.Ranks != ranks || !(got.GFlops > 0) {
		return fmt.Errorf("routine %q, ranks %d, gflops %v; want %q, %d, > 0: %s", got.Routine, got.Ranks, got.GFlops, routine, ranks, line)
	}
	if !(got.Residual > 0 && got.Residual < Tol) {
		return fmt.Errorf("backward error %v, want in (0, %v): %s", got.Residual, float64(Tol), line)
	}
	if g, ok := got.Extra["growth"].(float64); !ok || !(g > 0 && g < float64(got.N)) {
		return fmt.Errorf("growth factor %v, want a number in (0, n = %d): %s", got.Extra["growth"], got.N, line)
	}
	if p := got.Extra["pivoting"]; p != pivoting {
		return fmt.Errorf("pivoting %v, want %s: %s", p, pivoting, line)
	}
	return nil
}
