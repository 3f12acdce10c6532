package collective

import (
	"unsafe"

	"testing"

	"github.com/spmd-go/spmd/mpi"
)

// BenchmarkCombine measures the local reduction that the algorithms apply
// to every received block (1 MiB vectors).
func BenchmarkCombine(b *testing.B) {
	b.Run("int8-sum", func(b *testing.B) { benchCombine[int8](b, mpi.Sum) })
	b.Run("float64-sum", func(b *testing.B) { benchCombine[float64](b, mpi.Sum) })
	b.Run("int32-max", func(b *testing.B) { benchCombine[int32](b, mpi.Max) })
}

func benchCombine[T mpi.Elem](b *testing.B, op mpi.Op) {
	f, err := combiner[T](op)
	if err != nil {
		b.Fatal(err)
	}
	var z T
	n := (1 << 20) / int(unsafe.Sizeof(z))
	d, s := make([]T, n), make([]T, n)
	b.SetBytes(1 << 20)
	for b.Loop() {
		f(d, s)
	}
}

// TestSumBytes checks the eight-bytes-a-step sum against the plain loop,
// with carries in every byte and lengths that are not multiples of 8.
func TestSumBytes(t *testing.T) {
	for _, n := range []int{1, 2, 8, 9, 10, 63, 100} {
		d, s, want := make([]int8, n), make([]int8, n), make([]int8, n)
		for i := range d {
			d[i], s[i] = int8(i*37+100), int8(i*91-77)
			want[i] = d[i] + s[i]
		}
		f, err := combiner[int8](mpi.Sum)
		if err != nil {
			t.Fatal(err)
		}
		want[0] = d[0]
		f(d[1:], s[1:]) // unaligned, n-1 elements (0 included)
		for i := range d {
			if d[i] != want[i] {
				t.Fatalf("n=%d: d[%d] = %d, want %d", n, i, d[i], want[i])
			}
		}
	}
}
