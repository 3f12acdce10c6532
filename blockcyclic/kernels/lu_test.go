package kernels

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// luTol bounds the scaled residual ||P A - L U||_max / (max|A| k eps) of an
// LU factorization of order k: Higham's bound is about k times the growth
// factor, and random matrices of these sizes grow by well under 8.
const luTol = 30

// luResidual returns ||P A - L U||_max / (max(1, max|A|) k eps) for the
// factors f of a (0-based pivots; piv nil: no pivoting).
func luResidual(a, f array, piv []int32) float64 {
	m, n := a.r, a.c
	k := min(m, n)
	pa := a.clone()
	for i := 0; i < k && piv != nil; i++ {
		p := int(piv[i])
		for j := 0; j < n; j++ {
			x, y := pa.at(i, j), pa.at(p, j)
			pa.set(i, j, y)
			pa.set(p, j, x)
		}
	}
	worst, amax := 0.0, 1.0
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for l := 0; l <= min(i, j, k-1); l++ {
				lv := 1.0
				if l < i {
					lv = f.at(i, l)
				}
				s += lv * f.at(l, j)
			}
			worst = math.Max(worst, math.Abs(pa.at(i, j)-s))
			amax = math.Max(amax, math.Abs(a.at(i, j)))
		}
	}
	return worst / (amax * float64(max(k, 1)) * eps)
}

func TestGetrf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range append(sizes, [2]int{200, 70}, [2]int{70, 200}) {
		a := newArray(rng, s[0], s[1])
		k := min(s[0], s[1])
		for _, impl := range []struct {
			name string
			f    func(m, n int, a []float64, lda int, ipiv []int32) error
		}{{"Getrf", Getrf}, {"GetrfGo", GetrfGo}} {
			f := a.clone()
			piv := make([]int32, k)
			if err := impl.f(s[0], s[1], f.a, f.ld, piv); err != nil {
				t.Errorf("%s %dx%d: %v", impl.name, s[0], s[1], err)
				continue
			}
			f.checkPadding(t, impl.name)
			for i, p := range piv {
				if int(p) < i || int(p) >= s[0] {
					t.Errorf("%s %dx%d: ipiv[%d] = %d outside [%d, %d)", impl.name, s[0], s[1], i, p, i, s[0])
				}
			}
			if r := luResidual(a, f, piv); !(r < luTol) {
				t.Errorf("%s %dx%d: ||P A - L U|| / (max|A| k eps) = %.3g, want < %v", impl.name, s[0], s[1], r, float64(luTol))
			}
		}
		// Both implementations are partial pivoting on the same data: the
		// pivot rows agree (ties have probability zero here).
		f1, f2 := a.clone(), a.clone()
		p1, p2 := make([]int32, k), make([]int32, k)
		_ = Getrf(s[0], s[1], f1.a, f1.ld, p1)
		_ = GetrfGo(s[0], s[1], f2.a, f2.ld, p2)
		for i := range p1 {
			if p1[i] != p2[i] {
				t.Errorf("%dx%d: ipiv[%d]: Getrf %d, GetrfGo %d", s[0], s[1], i, p1[i], p2[i])
				break
			}
		}
	}
}

func TestGetrfZeroPivot(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct{ m, n, zero int }{{6, 6, 0}, {6, 6, 3}, {6, 6, 5}, {9, 4, 2}, {4, 9, 3}} {
		// An exactly zero column: the elimination leaves its pivot zero
		// whatever happens before it.
		a := newArray(rng, tc.m, tc.n)
		for i := 0; i < tc.m; i++ {
			a.set(i, tc.zero, 0)
		}
		for _, impl := range []struct {
			name string
			f    func(m, n int, a []float64, lda int, ipiv []int32) error
		}{{"Getrf", Getrf}, {"GetrfGo", GetrfGo}} {
			f := a.clone()
			err := impl.f(tc.m, tc.n, f.a, f.ld, make([]int32, min(tc.m, tc.n)))
			var zp *ZeroPivotError
			if !errors.As(err, &zp) {
				t.Errorf("%s %dx%d, column %d zero: %v, want a ZeroPivotError", impl.name, tc.m, tc.n, tc.zero, err)
				continue
			}
			if zp.Column != tc.zero+1 || zp.M != tc.m || zp.N != tc.n {
				t.Errorf("%s %dx%d: INFO = %d (%d x %d), want %d", impl.name, tc.m, tc.n, zp.Column, zp.M, zp.N, tc.zero+1)
			}
		}
	}
}

func TestGetrfNoPiv(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, s := range append(sizes, [2]int{90, 40}) {
		a := newArray(rng, s[0], s[1])
		for i := 0; i < min(s[0], s[1]); i++ {
			a.set(i, i, a.at(i, i)+float64(s[0]+s[1]))
		}
		f := a.clone()
		if err := GetrfNoPiv(s[0], s[1], f.a, f.ld); err != nil {
			t.Errorf("%dx%d: %v", s[0], s[1], err)
			continue
		}
		f.checkPadding(t, "GetrfNoPiv")
		if r := luResidual(a, f, nil); !(r < luTol) {
			t.Errorf("GetrfNoPiv %dx%d: ||A - L U|| / (max|A| k eps) = %.3g, want < %v", s[0], s[1], r, float64(luTol))
		}
	}
	a := []float64{0, 1, 1, 0}
	var zp *ZeroPivotError
	if err := GetrfNoPiv(2, 2, a, 2); !errors.As(err, &zp) || zp.Column != 1 {
		t.Errorf("GetrfNoPiv of [0 1; 1 0]: %v, want INFO = 1", err)
	}
}

func TestLaswp(t *testing.T) {
	a := []float64{0, 1, 2, 3, 10, 11, 12, 13} // 4 x 2
	Laswp(2, a, 4, 0, 2, []int32{3, 2})
	want := []float64{3, 2, 1, 0, 13, 12, 11, 10}
	for i := range a {
		if a[i] != want[i] {
			t.Fatalf("Laswp: got %v, want %v", a, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Laswp with a pivot outside the array did not panic")
		}
	}()
	Laswp(2, a, 4, 0, 1, []int32{7})
}
