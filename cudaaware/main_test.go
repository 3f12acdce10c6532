package cudaaware_test

import (
	"testing"

	"github.com/spmd-go/spmd/internal/mpitest"
)

func TestMain(m *testing.M) { mpitest.Main(m) }
