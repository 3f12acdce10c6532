package mpi

import (
	"reflect"
	"unsafe"
)

// Elem is the set of element types a buffer may hold. The MPI datatype of a
// call is derived from the element type: byte is MPI_BYTE, int32 is
// MPI_INT32_T, float64 is MPI_DOUBLE, complex128 is MPI_C_DOUBLE_COMPLEX,
// bool is MPI_C_BOOL, and the pair types below are the MPI_MAXLOC/MPI_MINLOC
// pair types. int and uint are 64-bit integers on 64-bit platforms. Named
// types whose underlying type is one of these (~float64, ...) are accepted.
type Elem interface {
	~byte | ~int8 | ~int16 | ~int32 | ~int64 | ~int |
		~uint16 | ~uint32 | ~uint64 | ~uint |
		~float32 | ~float64 | ~complex64 | ~complex128 | ~bool |
		Float32Int | Float64Int | Int32Pair | Int64Int
}

// Float32Int is the (value, index) pair of MPI_FLOAT_INT, for MaxLoc and MinLoc.
type Float32Int struct {
	Val   float32
	Index int32
}

// Float64Int is the (value, index) pair of MPI_DOUBLE_INT, for MaxLoc and MinLoc.
type Float64Int struct {
	Val   float64
	Index int32
}

// Int32Pair is the (value, index) pair of MPI_2INT, for MaxLoc and MinLoc.
type Int32Pair struct {
	Val   int32
	Index int32
}

// Int64Int is the (value, index) pair of MPI_LONG_INT, for MaxLoc and MinLoc.
type Int64Int struct {
	Val   int64
	Index int32
}

// kind indexes the predefined datatypes; the order matches spmd_datatype in
// shim.h and must stay in sync with it.
type kind uint8

const (
	kByte kind = iota
	kInt8
	kInt16
	kInt32
	kInt64
	kUint8
	kUint16
	kUint32
	kUint64
	kFloat32
	kFloat64
	kComplex64
	kComplex128
	kBool
	kFloat32Int
	kFloat64Int
	kInt32Pair
	kInt64Int
	numKinds
)

var kindNames = [numKinds]string{
	"MPI_BYTE", "MPI_INT8_T", "MPI_INT16_T", "MPI_INT32_T", "MPI_INT64_T",
	"MPI_UINT8_T", "MPI_UINT16_T", "MPI_UINT32_T", "MPI_UINT64_T",
	"MPI_FLOAT", "MPI_DOUBLE", "MPI_C_FLOAT_COMPLEX", "MPI_C_DOUBLE_COMPLEX", "MPI_C_BOOL",
	"MPI_FLOAT_INT", "MPI_DOUBLE_INT", "MPI_2INT", "MPI_LONG_INT",
}

func (k kind) String() string { return kindNames[k] }

// kindOf returns the datatype kind of T. The common unnamed types are resolved
// by a type switch on a nil pointer, which costs no allocation; named types
// fall back to reflection.
func kindOf[T Elem]() kind {
	switch any((*T)(nil)).(type) {
	case *float64:
		return kFloat64
	case *byte:
		return kByte
	case *int32:
		return kInt32
	case *int64:
		return kInt64
	case *uint64:
		return kUint64
	case *float32:
		return kFloat32
	case *complex128:
		return kComplex128
	case *int:
		return intKind
	}
	return kindSlow(reflect.TypeFor[T]())
}

// intKind is the kind of Go's int: int64 on 64-bit platforms, int32 otherwise.
const intKind = kInt32 + (kInt64-kInt32)*kind(unsafe.Sizeof(int(0))/8)

func kindSlow(t reflect.Type) kind {
	switch t {
	case reflect.TypeFor[Float32Int]():
		return kFloat32Int
	case reflect.TypeFor[Float64Int]():
		return kFloat64Int
	case reflect.TypeFor[Int32Pair]():
		return kInt32Pair
	case reflect.TypeFor[Int64Int]():
		return kInt64Int
	}
	switch t.Kind() {
	case reflect.Uint8:
		return kByte
	case reflect.Int8:
		return kInt8
	case reflect.Int16:
		return kInt16
	case reflect.Int32:
		return kInt32
	case reflect.Int64:
		return kInt64
	case reflect.Int:
		return intKind
	case reflect.Uint16:
		return kUint16
	case reflect.Uint32:
		return kUint32
	case reflect.Uint64:
		return kUint64
	case reflect.Uint:
		if t.Size() == 8 {
			return kUint64
		}
		return kUint32
	case reflect.Float32:
		return kFloat32
	case reflect.Float64:
		return kFloat64
	case reflect.Complex64:
		return kComplex64
	case reflect.Complex128:
		return kComplex128
	case reflect.Bool:
		return kBool
	}
	panic("mpi: unsupported element type " + t.String())
}

// buf describes a typed slice to the low layer: its address, its length in
// elements (checked to fit a C int) and its datatype kind.
type buf struct {
	p unsafe.Pointer
	n int
	k kind
}

func sizeof[T any](z T) uintptr { return unsafe.Sizeof(z) }

func bufOf[T Elem](s []T) buf {
	return buf{p: unsafe.Pointer(unsafe.SliceData(s)), n: len(s), k: kindOf[T]()}
}

// ThreadLevel is an MPI thread support level.
type ThreadLevel int

// Thread support levels, in increasing order.
const (
	ThreadSingle ThreadLevel = iota
	ThreadFunneled
	ThreadSerialized
	ThreadMultiple
)

func (l ThreadLevel) String() string {
	switch l {
	case ThreadSingle:
		return "MPI_THREAD_SINGLE"
	case ThreadFunneled:
		return "MPI_THREAD_FUNNELED"
	case ThreadSerialized:
		return "MPI_THREAD_SERIALIZED"
	case ThreadMultiple:
		return "MPI_THREAD_MULTIPLE"
	}
	return "ThreadLevel(?)"
}

// Status describes a completed receive or a probed message.
type Status struct {
	// Source is the rank the message came from.
	Source int
	// Tag is the message's tag.
	Tag int
	// Count is the number of elements received, of the receive buffer's
	// element type; for Probe, Iprobe, Mprobe and Improbe it is a byte count.
	// It is -1 when the bytes received are not a whole number of elements.
	Count int
	// Cancelled reports that the operation was cancelled (Request.Cancel).
	Cancelled bool
	// Err is the per-request error, set by the multiple-completion calls
	// when they report MPI_ERR_IN_STATUS.
	Err error
}
