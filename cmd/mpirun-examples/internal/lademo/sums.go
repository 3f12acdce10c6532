package lademo

import (
	"sync"

	"github.com/spmd-go/spmd/mpi"
)

// Sums accumulates two sums (for a residual: of the error's squares and of
// the reference's) from task bodies running concurrently on this rank.
type Sums struct {
	mu   sync.Mutex
	r, a float64
}

// Add adds r and a to the two sums.
func (s *Sums) Add(r, a float64) {
	s.mu.Lock()
	s.r += r
	s.a += a
	s.mu.Unlock()
}

// Total waits for the runtime's tasks and returns the two sums over all
// ranks. It is collective.
func (e *Env) Total(s *Sums) (r, a float64, err error) {
	if err := e.RT.Wait(); err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	loc := []float64{s.r, s.a}
	s.mu.Unlock()
	sum := []float64{0, 0}
	if err := mpi.Allreduce(e.Comm, loc, sum, mpi.Sum); err != nil {
		return 0, 0, err
	}
	return sum[0], sum[1], nil
}
