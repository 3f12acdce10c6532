package collective_test

import (
	"fmt"

	"github.com/spmd-go/spmd/collective"
	"github.com/spmd-go/spmd/mpi"
)

// Two collectives in flight at once beside computation: a broadcast from
// the last rank and a sum over every rank, advanced by one loop.
func Example() {
	w := mpi.World()
	x, err := collective.NewContext(w)
	if err != nil {
		panic(err)
	}
	defer x.Close()
	n, me := w.Size(), w.Rank()

	table := make([]float64, 4)
	if me == n-1 {
		table = []float64{1, 2, 3, 4}
	}
	bc, err := collective.Bcast(x, table, collective.Spec{Root: n - 1, Alg: collective.Chain, Chunk: 2})
	if err != nil {
		panic(err)
	}
	count := []int64{int64(me + 1)}
	total := make([]int64, 1)
	ar, err := collective.Allreduce(x, count, total, mpi.Sum, collective.Spec{Alg: collective.RecursiveDoubling})
	if err != nil {
		panic(err)
	}
	work := 0
	for {
		done, err := collective.TestAll(bc, ar)
		if err != nil {
			panic(err)
		}
		if done {
			break
		}
		work++ // compute something here
	}
	fmt.Println(table, total[0] == int64(n*(n+1)/2))
	// Output: [1 2 3 4] true
}
