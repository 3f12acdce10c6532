package cases

import (
	"fmt"
	"strings"

	"gonum.org/v1/gonum/mat"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// Shape is a matrix size and tile size.
type Shape struct{ M, N, MB, NB int }

func (s Shape) String() string { return fmt.Sprintf("%dx%d/%dx%d", s.M, s.N, s.MB, s.NB) }

// Shapes straddle block boundaries: partial last tiles, one tile, n < nb,
// a single row or column, and an empty matrix.
var Shapes = []Shape{
	{9, 14, 2, 3}, {16, 16, 4, 4}, {5, 7, 8, 8}, {1, 1, 3, 3}, {13, 1, 4, 2}, {1, 11, 2, 4}, {10, 10, 3, 3}, {0, 5, 2, 2},
}

// Grids returns the 2D block-cyclic distributions tests use on size ranks:
// every P x Q with P*Q = size in both rank orders (1 x P, P x 1 and
// non-square grids included), one with a non-zero source process, and a
// grid smaller than the job.
func Grids(size int) []bc.Cyclic2D {
	var out []bc.Cyclic2D
	for p := 1; p <= size; p++ {
		if size%p != 0 {
			continue
		}
		for _, o := range []bc.Order{bc.RowMajor, bc.ColMajor} {
			out = append(out, must(bc.NewCyclic2D(p, size/p, o, 0, 0)))
		}
	}
	out = append(out, must(bc.NewCyclic2D(size, 1, bc.RowMajor, size-1, 0)))
	if size >= 3 {
		out = append(out, must(bc.NewCyclic2D(1, size-1, bc.ColMajor, 0, size-2)))
	}
	return out
}

// Layouts returns distributions of every kind for an mt x nt tile grid on
// size ranks.
func Layouts(size, mt, nt int) []bc.Distribution {
	var out []bc.Distribution
	for _, g := range Grids(size) {
		out = append(out, g)
	}
	out = append(out,
		must(bc.NewBlock1D(size, bc.ByRows, mt)),
		must(bc.NewBlock1D(size, bc.ByCols, nt)),
		must(bc.NewCyclic1D(size, bc.ByRows, 0)),
		must(bc.NewCyclic1D(size, bc.ByCols, size-1)),
		must(bc.NewBlock2D(1, size, bc.ColMajor, mt, nt)),
	)
	for _, d := range SBCs(size) {
		out = append(out, d)
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Element is the deterministic test matrix: distinct, exactly representable
// values, so copies can be compared with ==.
func Element(i, j int) float64 { return float64(i*1000+j) + 0.5 }

// Dense returns the m x n test matrix built from f.
func Dense(m, n int, f func(i, j int) float64) *mat.Dense {
	if m == 0 || n == 0 {
		return &mat.Dense{}
	}
	d := mat.NewDense(m, n, nil)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			d.Set(i, j, f(i, j))
		}
	}
	return d
}

// equalOn compares a gathered matrix with f on rank root; other ranks
// check that they got nil.
func equalOn(rt *dagmpi.Runtime, root int, got *mat.Dense, m, n int, f func(i, j int) float64) error {
	if rt.Rank() != root {
		if got != nil {
			return fmt.Errorf("rank %d is not root %d but Gather returned a matrix", rt.Rank(), root)
		}
		return nil
	}
	if got == nil {
		return fmt.Errorf("root %d: Gather returned nil", root)
	}
	if m == 0 || n == 0 {
		if r, c := got.Dims(); r != 0 || c != 0 {
			return fmt.Errorf("root %d: empty matrix gathered as %d x %d", root, r, c)
		}
		return nil
	}
	if r, c := got.Dims(); r != m || c != n {
		return fmt.Errorf("root %d: gathered %d x %d, want %d x %d", root, r, c, m, n)
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if v, w := got.At(i, j), f(i, j); v != w {
				return fmt.Errorf("root %d: element (%d, %d) = %v, want %v", root, i, j, v, w)
			}
		}
	}
	return nil
}

func init() {
	Register(Case{Name: "matrix/scatter-gather", Pruned: true, Run: scatterGather})
	Register(Case{Name: "matrix/func-redistribute", Pruned: true, Run: funcRedistribute})
	Register(Case{Name: "matrix/scalapack-local", Pruned: true, Run: scalapackLocal})
	Register(Case{Name: "matrix/errors", Run: matrixErrors})
}

// scatterGather scatters the test matrix from every root over every layout
// and gathers it back to another rank.
func scatterGather(rt *dagmpi.Runtime) error {
	size := rt.Size()
	for _, s := range Shapes {
		mt, nt := (s.M+s.MB-1)/s.MB, (s.N+s.NB-1)/s.NB
		for li, dist := range Layouts(size, mt, nt) {
			root := li % size
			var src mat.Matrix
			if rt.Rank() == root {
				src = Dense(s.M, s.N, Element)
			}
			a, err := bc.Scatter(rt, src, root, s.M, s.N, s.MB, s.NB, dist)
			if err != nil {
				return fmt.Errorf("%v %v: Scatter: %w", s, dist, err)
			}
			to := (root + 1) % size
			got, err := a.Gather(to)
			if err != nil {
				return fmt.Errorf("%v %v: Gather: %w", s, dist, err)
			}
			if err := equalOn(rt, to, got, s.M, s.N, Element); err != nil {
				return fmt.Errorf("%v %T%+v: %w", s, dist, dist, err)
			}
		}
	}
	return nil
}

// funcRedistribute generates the test matrix in place, then moves it
// between layouts and block sizes, checking the contents after each move.
func funcRedistribute(rt *dagmpi.Runtime) error {
	size := rt.Size()
	for _, s := range Shapes {
		mt, nt := (s.M+s.MB-1)/s.MB, (s.N+s.NB-1)/s.NB
		layouts := Layouts(size, mt, nt)
		a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, layouts[0], Element)
		if err != nil {
			return fmt.Errorf("%v: NewMatrixFunc: %w", s, err)
		}
		got, err := a.Gather(0)
		if err != nil {
			return err
		}
		if err := equalOn(rt, 0, got, s.M, s.N, Element); err != nil {
			return fmt.Errorf("%v NewMatrixFunc: %w", s, err)
		}
		// A chain of redistributions with changing tile sizes; the new
		// tile grid's layouts are built for its own tile counts.
		blocks := [][2]int{{s.MB, s.NB}, {s.MB + 1, max(1, s.NB-1)}, {3, 5}, {1, 1}, {s.M + 2, s.N + 2}}
		for k := 1; k < len(blocks)+len(layouts); k++ {
			mb, nb := blocks[k%len(blocks)][0], blocks[k%len(blocks)][1]
			nl := Layouts(size, (s.M+mb-1)/mb, (s.N+nb-1)/nb)
			dist := nl[k%len(nl)]
			b, err := bc.Redistribute(a, mb, nb, dist)
			if err != nil {
				return fmt.Errorf("%v -> %dx%d %v: %w", s, mb, nb, dist, err)
			}
			root := k % size
			got, err := b.Gather(root)
			if err != nil {
				return err
			}
			if err := equalOn(rt, root, got, s.M, s.N, Element); err != nil {
				return fmt.Errorf("%v redistributed to %dx%d tiles over %T%+v: %w", s, mb, nb, dist, dist, err)
			}
			a = b
		}
	}
	return nil
}

// scalapackLocal checks Local against ScaLAPACK's index maps and SetLocal
// as its inverse.
func scalapackLocal(rt *dagmpi.Runtime) error {
	me := rt.Rank()
	for _, s := range Shapes {
		for _, g := range Grids(rt.Size()) {
			a, err := bc.NewMatrixFunc(rt, s.M, s.N, s.MB, s.NB, g, Element)
			if err != nil {
				return err
			}
			lr, lc, err := a.LocalShape()
			if err != nil {
				return err
			}
			// A leading dimension larger than needed, as ScaLAPACK allows.
			lld := max(1, lr) + 3
			loc, gotLLD, err := a.Local(make([]float64, lld*lc), lld)
			if err != nil {
				return fmt.Errorf("%v %+v: Local: %w", s, g, err)
			}
			if gotLLD != lld {
				return fmt.Errorf("%v: Local returned LLD %d, want %d", s, gotLLD, lld)
			}
			p, q := g.Grid()
			rsrc, csrc := g.Source()
			var prow, pcol int
			if me < g.Size() {
				prow, pcol = g.Coords(me)
			}
			for lj := 0; lj < lc; lj++ {
				for li := 0; li < lr; li++ {
					gi := bc.Indxl2g(li, s.MB, prow, rsrc, p)
					gj := bc.Indxl2g(lj, s.NB, pcol, csrc, q)
					if v, w := loc[li+lj*lld], Element(gi, gj); v != w {
						return fmt.Errorf("%v grid %+v rank %d: local (%d, %d) = %v, want global (%d, %d) = %v", s, g, me, li, lj, v, gi, gj, w)
					}
				}
			}
			if _, err := a.Desc(0, lld); err != nil && me < g.Size() {
				return fmt.Errorf("%v %+v: Desc: %w", s, g, err)
			}
			// SetLocal with every element negated, then gather.
			for k := range loc {
				loc[k] = -loc[k]
			}
			if err := a.SetLocal(loc, lld); err != nil {
				return fmt.Errorf("%v %+v: SetLocal: %w", s, g, err)
			}
			got, err := a.Gather(rt.Size() - 1)
			if err != nil {
				return err
			}
			neg := func(i, j int) float64 { return -Element(i, j) }
			if err := equalOn(rt, rt.Size()-1, got, s.M, s.N, neg); err != nil {
				return fmt.Errorf("%v %+v after SetLocal: %w", s, g, err)
			}
		}
	}
	return nil
}

// matrixErrors checks that bad input is refused with errors naming the
// field, identically on every rank (no submission is made).
func matrixErrors(rt *dagmpi.Runtime) error {
	g := must(bc.NewCyclic2D(1, rt.Size(), bc.RowMajor, 0, 0))
	big := must(bc.NewCyclic2D(rt.Size()+1, 1, bc.RowMajor, 0, 0))
	checks := []struct {
		name string
		err  error
		want string
	}{
		{"mb=0", second(bc.NewMatrix(rt, 4, 4, 0, 2, g)), "MB_ = 0"},
		{"nb=-1", second(bc.NewMatrix(rt, 4, 4, 2, -1, g)), "NB_ = -1"},
		{"m<0", second(bc.NewMatrix(rt, -1, 4, 2, 2, g)), "M_ and N_"},
		{"grid too large", second(bc.NewMatrix(rt, 4, 4, 2, 2, big)), "grid larger than the communicator"},
		{"scatter root", second(bc.Scatter(rt, nil, rt.Size(), 4, 4, 2, 2, g)), "root"},
		{"local of 1D", third(mustMatrix(rt, must(bc.NewBlock1D(rt.Size(), bc.ByRows, 2))).LocalShape()), "Cyclic2D"},
	}
	a := mustMatrix(rt, g)
	lr, lc, _ := a.LocalShape()
	if lr > 1 && lc > 0 {
		checks = append(checks, struct {
			name string
			err  error
			want string
		}{"lld", a.SetLocal(make([]float64, 100), lr-1), "LLD_"})
	}
	for _, c := range checks {
		if c.err == nil {
			return fmt.Errorf("%s: no error", c.name)
		}
		if !strings.Contains(c.err.Error(), c.want) {
			return fmt.Errorf("%s: error %q does not name %q", c.name, c.err, c.want)
		}
	}
	return nil
}

func mustMatrix(rt *dagmpi.Runtime, d bc.Distribution) *bc.Matrix {
	a, err := bc.NewMatrix(rt, 4, 4, 2, 2, d)
	if err != nil {
		panic(err)
	}
	return a
}

func second[T any](_ T, err error) error { return err }

func third[T, U any](_ T, _ U, err error) error { return err }

// Eps is the relative machine precision of LAPACK's scaled residuals
// (DLAMCH('E') = 2^-53).
const Eps = 0x1p-53

// alienMatrix returns an m x n matrix in mb x nb tiles on a Runtime of its
// own (one in-process rank), for the "belongs to another Runtime" errors,
// and the function that closes that Runtime.
func alienMatrix(m, n, mb, nb int) (*bc.Matrix, func(), error) {
	w, err := inproc.NewWorld(inproc.Config{Ranks: 1})
	if err != nil {
		return nil, nil, err
	}
	other, err := dagmpi.New(w.Endpoint(0), dagmpi.WithOwnedTransport())
	if err != nil {
		return nil, nil, err
	}
	a, err := bc.NewMatrix(other, m, n, mb, nb, must(bc.NewCyclic2D(1, 1, bc.RowMajor, 0, 0)))
	if err != nil {
		other.Close()
		return nil, nil, err
	}
	return a, func() { other.Close() }, nil
}
