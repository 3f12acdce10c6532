//go:build !scalapack || !cgo || mpich

package scalapack_test

import (
	"errors"
	"testing"

	"github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
)

func TestNotBuilt(t *testing.T) {
	if scalapack.Available {
		t.Fatal("Available without the scalapack tag")
	}
	if _, err := scalapack.NewGrid(nil, 1, 1, blockcyclic.RowMajor); !errors.Is(err, scalapack.ErrNotBuilt) {
		t.Fatalf("NewGrid: err = %v, want ErrNotBuilt", err)
	}
	if _, err := scalapack.Pdpotrf('L', 1, nil, 1, 1, blockcyclic.Desc{}); !errors.Is(err, scalapack.ErrNotBuilt) {
		t.Fatalf("Pdpotrf: err = %v, want ErrNotBuilt", err)
	}
}
