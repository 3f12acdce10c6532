package collective_test

import (
	"testing"
	"time"

	"github.com/spmd-go/spmd/internal/mpitest"
)

// The suite runs at 1 to 5 ranks: odd member counts exercise the folding of
// recursive doubling and Rabenseifner and uneven blocks.
func TestMain(m *testing.M) {
	mpitest.Main(m, mpitest.Ranks(1, 2, 3, 4, 5), mpitest.Timeout(3*time.Minute))
}
