package mpitest

import (
	"fmt"

	"github.com/spmd-go/spmd/mpi"
)

// Value is a deterministic element for (rank, i), distinct across ranks and
// indices, so that a test can tell which rank's data arrived where. It
// covers byte, int32, int64, uint64, float32, float64 and complex128.
func Value[T mpi.Elem](rank, i int) T {
	var z T
	switch p := any(&z).(type) {
	case *byte:
		*p = byte(rank*31 + i)
	case *int32:
		*p = int32(rank*1000 + i)
	case *int64:
		*p = int64(rank)<<40 + int64(i)
	case *uint64:
		*p = uint64(rank)<<50 | uint64(i)
	case *float32:
		*p = float32(rank) + float32(i)/8
	case *float64:
		*p = float64(rank)*1e6 + float64(i) + 0.25
	case *complex128:
		*p = complex(float64(rank), float64(i))
	default:
		panic(fmt.Sprintf("mpitest: no value for %T", z))
	}
	return z
}

// Fill returns n elements Value(rank, 0..n-1).
func Fill[T mpi.Elem](rank, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = Value[T](rank, i)
	}
	return s
}
