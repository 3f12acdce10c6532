//go:build scalapack && cgo && !mpich

package scalapack_test

import (
	"testing"

	"github.com/spmd-go/spmd/internal/mpitest"
)

func TestMain(m *testing.M) { mpitest.Main(m) }
