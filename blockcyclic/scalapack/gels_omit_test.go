//go:build !scalapack || !cgo || mpich

package scalapack_test

import (
	"errors"
	"testing"

	"github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/scalapack"
)

func TestGelsTranNotBuilt(t *testing.T) {
	if _, err := scalapack.Pdgels('N', 1, 1, 1, nil, 1, 1, blockcyclic.Desc{}, nil, 1, 1, blockcyclic.Desc{}); !errors.Is(err, scalapack.ErrNotBuilt) {
		t.Fatalf("Pdgels: err = %v, want ErrNotBuilt", err)
	}
	if err := scalapack.Pdtran(1, 1, 1, nil, 1, 1, blockcyclic.Desc{}, 0, nil, 1, 1, blockcyclic.Desc{}); !errors.Is(err, scalapack.ErrNotBuilt) {
		t.Fatalf("Pdtran: err = %v, want ErrNotBuilt", err)
	}
}
