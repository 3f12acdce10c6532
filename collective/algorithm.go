package collective

import (
	"fmt"
	"strings"
)

// Algorithm names how an operation moves its data.
type Algorithm int

const (
	// Default picks an algorithm by operation and message size (see each
	// operation).
	Default Algorithm = iota
	// Native runs the MPI library's nonblocking collective (Ibcast,
	// Ireduce, Iallreduce, Ialltoallv) on a cached sub-communicator of the
	// members.
	Native
	// Binomial: a binomial tree rooted at the root (Bcast, Reduce);
	// ceil(log2 p) steps of whole messages.
	Binomial
	// Chain: a pipeline along the members from the root, in chunks of
	// Spec.Chunk elements (Bcast).
	Chain
	// ScatterAllgather: a binomial scatter of p blocks then a ring
	// allgather (Bcast; van de Geijn).
	ScatterAllgather
	// Ring: a ring reduce-scatter, then a ring allgather (Allreduce) or a
	// gather of the blocks to the root (Reduce).
	Ring
	// RecursiveDoubling: log2 p exchanges of whole vectors with partners at
	// distance 1, 2, 4, ...; sizes that are not powers of two first fold the
	// extra members into their neighbours (Allreduce; Reduce keeps the
	// result at the root only).
	RecursiveDoubling
	// Rabenseifner: a reduce-scatter by recursive halving, then an allgather
	// by recursive doubling (Allreduce) or a gather to the root (Reduce),
	// with the same folding for sizes that are not powers of two.
	Rabenseifner
	// Direct: every message posted at once (Alltoallv).
	Direct
	numAlgorithms
)

var algNames = [numAlgorithms]string{"default", "native", "binomial", "chain", "scatter-allgather",
	"ring", "recursive-doubling", "rabenseifner", "direct"}

func (a Algorithm) String() string {
	if a < 0 || a >= numAlgorithms {
		return fmt.Sprintf("Algorithm(%d)", int(a))
	}
	return algNames[a]
}

// ParseAlgorithm returns the algorithm named s (as String writes it).
func ParseAlgorithm(s string) (Algorithm, error) {
	for a, n := range algNames {
		if strings.EqualFold(s, n) {
			return Algorithm(a), nil
		}
	}
	return 0, fmt.Errorf("%w: no algorithm named %q (one of %s)", ErrAlgorithm, s, strings.Join(algNames[:], ", "))
}

// The algorithms each operation implements, Default excluded.
var (
	BcastAlgorithms     = []Algorithm{Native, Binomial, Chain, ScatterAllgather}
	ReduceAlgorithms    = []Algorithm{Native, Binomial, Ring, RecursiveDoubling, Rabenseifner}
	AllreduceAlgorithms = []Algorithm{Native, Ring, RecursiveDoubling, Rabenseifner}
	AlltoallvAlgorithms = []Algorithm{Native, Direct}
)

func supports(list []Algorithm, a Algorithm) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}

// Thresholds of the Default choice, in bytes.
const (
	defaultChunkBytes = 64 << 10
	smallBytes        = 16 << 10
)

func pickBcast(bytes, p int) Algorithm {
	if bytes <= smallBytes || p <= 2 {
		return Binomial
	}
	return ScatterAllgather
}

func pickReduce(bytes, p int) Algorithm {
	if bytes <= smallBytes || p <= 2 {
		return Binomial
	}
	return Rabenseifner
}

func pickAllreduce(bytes, p int) Algorithm {
	if bytes <= smallBytes || p <= 2 {
		return RecursiveDoubling
	}
	return Rabenseifner
}
