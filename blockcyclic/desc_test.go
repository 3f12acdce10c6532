package blockcyclic

import (
	"errors"
	"testing"
)

func TestNewDesc(t *testing.T) {
	g := GridInfo{NProw: 2, NPcol: 3, MyRow: 0, MyCol: 1}
	d, err := NewDesc(9, 14, 2, 3, 0, 0, 7, 5, g)
	if err != nil {
		t.Fatal(err)
	}
	want := Desc{BlockCyclic2D, 7, 9, 14, 2, 3, 0, 0, 5}
	if d != want {
		t.Errorf("NewDesc = %v, want %v", d, want)
	}
	if r, c := d.LocalRows(0, 2), d.LocalCols(1, 3); r != 5 || c != 5 {
		t.Errorf("local part %d x %d, want 5 x 5", r, c)
	}
	if d.Int32() != [DLen]int32{1, 7, 9, 14, 2, 3, 0, 0, 5} {
		t.Errorf("Int32 = %v", d.Int32())
	}
	// An empty local part still needs LLD_ >= 1.
	if _, err := NewDesc(0, 0, 1, 1, 0, 0, 0, 1, g); err != nil {
		t.Errorf("empty matrix: %v", err)
	}
}

func TestNewDescErrors(t *testing.T) {
	ok := GridInfo{NProw: 2, NPcol: 3, MyRow: 1, MyCol: 2}
	for _, c := range []struct {
		name                               string
		m, n, mb, nb, rsrc, csrc, ctxt, ld int
		grid                               GridInfo
		field                              string
		info                               int
		msg                                string
	}{
		{"M", -1, 4, 2, 2, 0, 0, 0, 4, ok, "M_", -2,
			"blockcyclic: descinit: M_ = -1 must not be negative (INFO = -2)"},
		{"N", 4, -3, 2, 2, 0, 0, 0, 4, ok, "N_", -3,
			"blockcyclic: descinit: N_ = -3 must not be negative (INFO = -3)"},
		{"MB", 4, 4, 0, 2, 0, 0, 0, 4, ok, "MB_", -4,
			"blockcyclic: descinit: MB_ = 0 must be positive (INFO = -4)"},
		{"NB", 4, 4, 2, -1, 0, 0, 0, 4, ok, "NB_", -5,
			"blockcyclic: descinit: NB_ = -1 must be positive (INFO = -5)"},
		{"RSRC high", 4, 4, 2, 2, 2, 0, 0, 4, ok, "RSRC_", -6,
			"blockcyclic: descinit: RSRC_ = 2 must be in [0, 2) (INFO = -6)"},
		{"RSRC negative", 4, 4, 2, 2, -1, 0, 0, 4, ok, "RSRC_", -6, ""},
		{"CSRC", 4, 4, 2, 2, 0, 3, 0, 4, ok, "CSRC_", -7,
			"blockcyclic: descinit: CSRC_ = 3 must be in [0, 3) (INFO = -7)"},
		{"CTXT invalid", 4, 4, 2, 2, 0, 0, 5, 4, GridInfo{-1, -1, -1, -1}, "CTXT_", -8,
			"blockcyclic: descinit: CTXT_ = 5 is not a valid grid for this process (-1 x -1, at (-1, -1)) (INFO = -8)"},
		{"CTXT outside grid", 4, 4, 2, 2, 0, 0, 0, 4, GridInfo{2, 3, 2, 0}, "CTXT_", -8, ""},
		// Process row 1 of 2 holds rows 2-3 and 6 of 7 (MB = 2): 3 rows.
		{"LLD", 7, 4, 2, 2, 0, 0, 0, 2, ok, "LLD_", -9,
			"blockcyclic: descinit: LLD_ = 2 is less than max(1, local rows) = 3 on process row 1 (INFO = -9)"},
		{"LLD zero on empty", 0, 4, 2, 2, 0, 0, 0, 0, ok, "LLD_", -9, ""},
		// Both M_ and MB_ are bad: DESCINIT reports the first, M_.
		{"first failure wins", -1, 4, 0, 2, 0, 0, 0, 4, ok, "M_", -2, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewDesc(c.m, c.n, c.mb, c.nb, c.rsrc, c.csrc, c.ctxt, c.ld, c.grid)
			var de *DescError
			if !errors.As(err, &de) {
				t.Fatalf("error %v, want a *DescError", err)
			}
			if de.Field != c.field || de.Info != c.info {
				t.Errorf("field %s INFO %d, want %s INFO %d", de.Field, de.Info, c.field, c.info)
			}
			if c.msg != "" && err.Error() != c.msg {
				t.Errorf("message\n%s\nwant\n%s", err, c.msg)
			}
		})
	}
}

// TestNewDescLLDBoundary checks that the smallest accepted LLD_ is exactly
// max(1, Numroc of the local rows), on every process row.
func TestNewDescLLDBoundary(t *testing.T) {
	for _, c := range sweep() {
		if c.n > 20 || c.nb > 4 {
			continue
		}
		for row := 0; row < c.nprocs; row++ {
			g := GridInfo{NProw: c.nprocs, NPcol: 1, MyRow: row}
			need := max(1, len(deal(c).global[row]))
			if _, err := NewDesc(c.n, 1, c.nb, 1, c.isrc, 0, 0, need, g); err != nil {
				t.Fatalf("%v row %d: LLD_ = %d rejected: %v", c, row, need, err)
			}
			if _, err := NewDesc(c.n, 1, c.nb, 1, c.isrc, 0, 0, need-1, g); err == nil {
				t.Fatalf("%v row %d: LLD_ = %d accepted", c, row, need-1)
			}
		}
	}
}
