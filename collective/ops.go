package collective

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/spmd-go/spmd/mpi"
)

// Local reductions. The algorithms combine received vectors in Go with the
// semantics of the predefined MPI operations: Sum, Prod, Max and Min on
// integers (byte as uint8), floats (Max and Min not on complex); Land, Lor
// and Lxor on integers and bool; Band, Bor and Bxor on integers; MaxLoc and
// MinLoc on the pair types (ties keep the smaller index). Every predefined
// operation is commutative, and dst op src equals src op dst bit for bit, so
// both partners of an exchange compute the same value.

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint
}

type real interface{ integer | ~float32 | ~float64 }

type cplx interface{ ~complex64 | ~complex128 }

type combineFn[T any] func(dst, src []T)

func sumOf[E real | cplx](d, s []E) {
	s = s[:len(d)]
	for i := range d {
		d[i] += s[i]
	}
}

func prodOf[E real | cplx](d, s []E) {
	s = s[:len(d)]
	for i := range d {
		d[i] *= s[i]
	}
}

func maxOf[E real](d, s []E) {
	s = s[:len(d)]
	for i := range d {
		if s[i] > d[i] {
			d[i] = s[i]
		}
	}
}

func minOf[E real](d, s []E) {
	s = s[:len(d)]
	for i := range d {
		if s[i] < d[i] {
			d[i] = s[i]
		}
	}
}

func logical[E integer](op mpi.Op) combineFn[E] {
	b := func(v E) bool { return v != 0 }
	return func(d, s []E) {
		s = s[:len(d)]
		for i := range d {
			var r bool
			switch op {
			case mpi.Land:
				r = b(d[i]) && b(s[i])
			case mpi.Lor:
				r = b(d[i]) || b(s[i])
			default:
				r = b(d[i]) != b(s[i])
			}
			d[i] = 0
			if r {
				d[i] = 1
			}
		}
	}
}

func bitwise[E integer](op mpi.Op) combineFn[E] {
	switch op {
	case mpi.Band:
		return func(d, s []E) {
			s = s[:len(d)]
			for i := range d {
				d[i] &= s[i]
			}
		}
	case mpi.Bor:
		return func(d, s []E) {
			s = s[:len(d)]
			for i := range d {
				d[i] |= s[i]
			}
		}
	}
	return func(d, s []E) {
		s = s[:len(d)]
		for i := range d {
			d[i] ^= s[i]
		}
	}
}

func numeric[E real](op mpi.Op) combineFn[E] {
	switch op {
	case mpi.Sum:
		return sumOf[E]
	case mpi.Prod:
		return prodOf[E]
	case mpi.Max:
		return maxOf[E]
	case mpi.Min:
		return minOf[E]
	}
	return nil
}

func intFn[E integer](op mpi.Op) combineFn[E] {
	switch op {
	case mpi.Land, mpi.Lor, mpi.Lxor:
		return logical[E](op)
	case mpi.Band, mpi.Bor, mpi.Bxor:
		return bitwise[E](op)
	}
	return numeric[E](op)
}

func complexFn[E cplx](op mpi.Op) combineFn[E] {
	switch op {
	case mpi.Sum:
		return sumOf[E]
	case mpi.Prod:
		return prodOf[E]
	}
	return nil
}

func boolFn(op mpi.Op) combineFn[bool] {
	switch op {
	case mpi.Land:
		return func(d, s []bool) {
			s = s[:len(d)]
			for i := range d {
				d[i] = d[i] && s[i]
			}
		}
	case mpi.Lor:
		return func(d, s []bool) {
			s = s[:len(d)]
			for i := range d {
				d[i] = d[i] || s[i]
			}
		}
	case mpi.Lxor:
		return func(d, s []bool) {
			s = s[:len(d)]
			for i := range d {
				d[i] = d[i] != s[i]
			}
		}
	}
	return nil
}

// locFn is MaxLoc/MinLoc over a pair type with fields Val and Index.
func locFn[P any, V real](op mpi.Op, val func(*P) V, idx func(*P) int32) combineFn[P] {
	if op != mpi.MaxLoc && op != mpi.MinLoc {
		return nil
	}
	max := op == mpi.MaxLoc
	return func(d, s []P) {
		s = s[:len(d)]
		for i := range d {
			a, b := &d[i], &s[i]
			va, vb := val(a), val(b)
			better := (max && vb > va) || (!max && vb < va)
			if better || (va == vb && idx(b) < idx(a)) {
				*a = *b
			}
		}
	}
}

// sumBytes adds byte vectors element by element, wrapping (int8 and uint8
// alike), eight bytes per step: the low seven bits of each byte are added
// with their carries kept inside the byte, then the top bits are put back
// with an exclusive or, so no carry crosses into the next byte.
func sumBytes(d, s []byte) {
	const hi = 0x8080808080808080
	s = s[:len(d)]
	i := 0
	for ; i+8 <= len(d); i += 8 {
		a, b := binary.LittleEndian.Uint64(d[i:]), binary.LittleEndian.Uint64(s[i:])
		binary.LittleEndian.PutUint64(d[i:], ((a&^hi)+(b&^hi))^((a^b)&hi))
	}
	for ; i < len(d); i++ {
		d[i] += s[i]
	}
}

// as views s as a slice of E (same memory; E and T have the same layout).
func as[E, T any](s []T) []E {
	return unsafe.Slice((*E)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// cast turns a combine function over E into one over T of the same layout.
func cast[T, E any](f combineFn[E]) combineFn[T] {
	if f == nil {
		return nil
	}
	return func(d, s []T) { f(as[E](d), as[E](s)) }
}

// combiner returns dst[i] = dst[i] op src[i] for T, or an ErrOp error.
func combiner[T mpi.Elem](op mpi.Op) (combineFn[T], error) {
	t := reflect.TypeFor[T]()
	var f combineFn[T]
	switch t {
	case reflect.TypeFor[mpi.Float32Int]():
		f = cast[T](locFn(op, func(p *mpi.Float32Int) float32 { return p.Val }, func(p *mpi.Float32Int) int32 { return p.Index }))
	case reflect.TypeFor[mpi.Float64Int]():
		f = cast[T](locFn(op, func(p *mpi.Float64Int) float64 { return p.Val }, func(p *mpi.Float64Int) int32 { return p.Index }))
	case reflect.TypeFor[mpi.Int32Pair]():
		f = cast[T](locFn(op, func(p *mpi.Int32Pair) int32 { return p.Val }, func(p *mpi.Int32Pair) int32 { return p.Index }))
	case reflect.TypeFor[mpi.Int64Int]():
		f = cast[T](locFn(op, func(p *mpi.Int64Int) int64 { return p.Val }, func(p *mpi.Int64Int) int32 { return p.Index }))
	default:
		switch t.Kind() {
		case reflect.Int8:
			f = cast[T](intFn[int8](op))
			if op == mpi.Sum {
				f = cast[T](sumBytes)
			}
		case reflect.Int16:
			f = cast[T](intFn[int16](op))
		case reflect.Int32:
			f = cast[T](intFn[int32](op))
		case reflect.Int64:
			f = cast[T](intFn[int64](op))
		case reflect.Int:
			f = cast[T](intFn[int](op))
		case reflect.Uint8:
			f = cast[T](intFn[uint8](op))
			if op == mpi.Sum {
				f = cast[T](sumBytes)
			}
		case reflect.Uint16:
			f = cast[T](intFn[uint16](op))
		case reflect.Uint32:
			f = cast[T](intFn[uint32](op))
		case reflect.Uint64:
			f = cast[T](intFn[uint64](op))
		case reflect.Uint:
			f = cast[T](intFn[uint](op))
		case reflect.Float32:
			f = cast[T](numeric[float32](op))
		case reflect.Float64:
			f = cast[T](numeric[float64](op))
		case reflect.Complex64:
			f = cast[T](complexFn[complex64](op))
		case reflect.Complex128:
			f = cast[T](complexFn[complex128](op))
		case reflect.Bool:
			f = cast[T](boolFn(op))
		}
	}
	if f == nil {
		return nil, fmt.Errorf("%w: %v on %v", ErrOp, op, t)
	}
	return f, nil
}
