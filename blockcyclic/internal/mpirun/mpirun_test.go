package mpirun

import (
	"testing"
	"time"

	"github.com/spmd-go/spmd/blockcyclic/internal/cases"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/p2p"
	"github.com/spmd-go/spmd/internal/mpitest"
	"github.com/spmd-go/spmd/mpi"
)

func TestMain(m *testing.M) { mpitest.Main(m) }

func TestCases(t *testing.T) {
	for _, c := range cases.All() {
		for _, v := range cases.Variants(c) {
			t.Run(c.Name+"/"+v.Name, func(t *testing.T) {
				o := append([]dagmpi.Option{dagmpi.WithWatchdog(60 * time.Second)}, v.Opts...)
				rt, err := p2p.NewRuntime(mpi.World(), o...)
				if err != nil {
					t.Fatal(err)
				}
				err = c.Run(rt)
				if cerr := rt.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					t.Errorf("rank %d of %d: %v", mpi.World().Rank(), mpi.World().Size(), err)
				}
			})
		}
	}
}
