package mpi_test

import (
	"os"
	"testing"

	"github.com/spmd-go/spmd/internal/mpitest"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(runHelper(os.Getenv(helperEnv)))
	}
	mpitest.Main(m)
}
