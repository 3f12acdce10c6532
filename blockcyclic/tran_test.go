package blockcyclic_test

import (
	"fmt"
	"testing"

	bc "github.com/spmd-go/spmd/blockcyclic"
	"github.com/spmd-go/spmd/blockcyclic/internal/cases"
)

// diagonal is a Distribution this package does not know: block (i, j) on
// rank (i + 2 j) mod p.
type diagonal struct{ p int }

func (d diagonal) Owner(i, j int) int               { return (i + 2*j) % d.p }
func (d diagonal) LocalBlock(i, j int) (li, lj int) { return i / d.p, j }
func (d diagonal) Size() int                        { return d.p }

// TestTransposedDist checks that TransposedDist keeps every block where it
// was, as its local block transposed, for every layout of the package and
// a foreign one, and that it is its own inverse.
func TestTransposedDist(t *testing.T) {
	const mt, nt = 7, 5
	c3, err := bc.NewCyclic3D(2, 3, 2, bc.RowMajor, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for size := 1; size <= 6; size++ {
		ds := append(cases.Layouts(size, mt, nt), c3, diagonal{size})
		for _, d := range ds {
			td := bc.TransposedDist(d)
			what := fmt.Sprintf("%T%+v", d, d)
			if td.Size() != d.Size() {
				t.Fatalf("%s: Size %d, want %d", what, td.Size(), d.Size())
			}
			if _, foreign := d.(diagonal); !foreign && fmt.Sprintf("%T", td) != fmt.Sprintf("%T", d) {
				t.Errorf("%s: TransposedDist is a %T, want the same layout type", what, td)
			}
			for i := 0; i < mt; i++ {
				for j := 0; j < nt; j++ {
					if td.Owner(j, i) != d.Owner(i, j) {
						t.Fatalf("%s: block (%d, %d) of the transpose on rank %d, block (%d, %d) on %d", what, j, i, td.Owner(j, i), i, j, d.Owner(i, j))
					}
					li, lj := d.LocalBlock(i, j)
					tlj, tli := td.LocalBlock(j, i)
					if li != tli || lj != tlj {
						t.Fatalf("%s: local block of (%d, %d) is (%d, %d), of its transpose (%d, %d)", what, i, j, li, lj, tlj, tli)
					}
				}
			}
			if back := bc.TransposedDist(td); fmt.Sprintf("%#v", back) != fmt.Sprintf("%#v", d) {
				t.Errorf("%s: transposed twice gives %#v", what, back)
			}
		}
	}
	if bc.TransposedDist(nil) != nil {
		t.Errorf("TransposedDist(nil) is not nil")
	}
}
