package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Column widths of the OSU micro-benchmarks 7.4 output (shared/osu-format.md):
// rows are the size in %-10d and each value in %20.2f; the first header line
// is "# Size" in %-10s and the value header in %18s (so "# Size       Avg
// Latency(us)" is exactly OSU's line); the iteration count is 12 wide; the
// barrier test, which has no size column, prints its value 17 wide under
// "# Avg Latency(us)"; the nonblocking collectives' four columns are 18
// wide, headers and values.
const (
	sizeWidth    = 10
	headerWidth  = 18
	fieldWidth   = 20
	itersWidth   = 12
	barrierWidth = 17
	nbWidth      = 18 // the nonblocking collectives' four columns, headers and values
)

// printer writes the table, or JSON lines, on rank 0.
type printer struct {
	w  io.Writer
	t  *test
	o  *options
	np int
}

// header prints the lines before the first row: an empty line, the title,
// the datatype and the column headers, as OSU does for point-to-point and
// collective tests. The title says "spmd Go" where OSU says "OSU" and has no
// version; every other line is OSU's. The data are bytes: MPI_BYTE for
// data movement and MPI_INT8_T for reductions, both moving 1-byte elements
// like OSU's MPI_CHAR, whose name the header keeps so the tables line up.
func (p *printer) header() {
	if p.o.json {
		return
	}
	var b strings.Builder
	if p.t.class == onesided {
		// One-sided tests print no empty line first, and name the
		// window creation and synchronisation.
		fmt.Fprintf(&b, "# spmd Go %s\n", p.t.title)
		fmt.Fprintf(&b, "# Window creation: %s\n# Synchronization: %s\n", winHeaders[p.o.win], syncHeaders[p.o.sync])
	} else {
		fmt.Fprintf(&b, "\n# spmd Go %s%s\n", p.t.title, p.algTitle())
	}
	switch {
	case p.t.nb:
		// OSU's nonblocking collective header: the overall time's
		// definition, then four value columns.
		b.WriteString("# Overall = Coll. Init + Compute + MPI_Test + MPI_Wait\n\n")
		if p.t.class == barrier {
			// osu_ibarrier: no datatype, no size column.
			fmt.Fprintf(&b, "%*s", nbWidth, "Overall(us)")
		} else {
			fmt.Fprintf(&b, "# Datatype: MPI_CHAR.\n%-*s%*s", sizeWidth, "# Size", nbWidth, "Overall(us)")
		}
		fmt.Fprintf(&b, "%*s%*s%*s", nbWidth, "Compute(us)", nbWidth, "Pure Comm.(us)", nbWidth, "Overlap(%)")
		if p.o.compareC {
			fmt.Fprintf(&b, "%*s%*s%*s", nbWidth, "C Overall(us)", nbWidth, "C Overlap(%)", nbWidth, "Go/C")
		}
	case p.t.class == barrier:
		b.WriteString("# Avg Latency(us)")
	case len(p.o.algs) > 1:
		// One column per algorithm, headed by its name.
		b.WriteString("# Datatype: MPI_CHAR.\n")
		fmt.Fprintf(&b, "%-*s", sizeWidth, "# Size")
		for i, a := range p.o.algs {
			w := fieldWidth
			if i == 0 {
				w = headerWidth
			}
			fmt.Fprintf(&b, "%*s", w, a.name)
		}
	default:
		b.WriteString("# Datatype: MPI_CHAR.\n")
		fmt.Fprintf(&b, "%-*s%*s", sizeWidth, "# Size", headerWidth, p.t.header)
	}
	if p.o.full {
		fmt.Fprintf(&b, "%*s%*s%*s", fieldWidth, "Min Latency(us)", fieldWidth, "Max Latency(us)", itersWidth, "Iterations")
	}
	if p.o.compareC && !p.t.nb {
		fmt.Fprintf(&b, "%*s%*s", fieldWidth, p.t.cHeader, fieldWidth, "Go/C")
	}
	b.WriteString("\n")
	io.WriteString(p.w, b.String())
}

// algTitle is what the title line says of -algorithm: nothing without it.
func (p *printer) algTitle() string {
	switch len(p.o.algs) {
	case 0:
		return ""
	case 1:
		return " (algorithm: " + p.o.algs[0].name + ")"
	}
	names := make([]string, len(p.o.algs))
	for i, a := range p.o.algs {
		names[i] = a.name
	}
	return " (algorithms: " + strings.Join(names, ", ") + ")"
}

// jsonRow is the -json form of a row.
type jsonRow struct {
	Test       string   `json:"test"`
	Algorithm  string   `json:"algorithm,omitempty"`
	Size       int      `json:"size"`
	Value      float64  `json:"value"`
	Unit       string   `json:"unit"`
	Ranks      int      `json:"ranks"`
	Iterations int      `json:"iterations"`
	Warmup     int      `json:"warmup"`
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`
	CValue     *float64 `json:"c_value,omitempty"`
	Ratio      *float64 `json:"ratio,omitempty"`
	Compute    *float64 `json:"compute,omitempty"`   // nonblocking tests, us
	PureComm   *float64 `json:"pure_comm,omitempty"` // nonblocking tests, us
	Overlap    *float64 `json:"overlap,omitempty"`   // nonblocking tests, %
	COverlap   *float64 `json:"c_overlap,omitempty"` // nonblocking tests with -compare-c, %
}

// ratio is Go's value over C's: above 1 Go is slower for latencies and
// faster for bandwidths.
func ratio(g, c float64) float64 {
	if c == 0 {
		return 0
	}
	return g / c
}

func (p *printer) row(r *row) error {
	if len(r.algRes) > 0 {
		return p.algRow(r)
	}
	if r.nb != nil {
		return p.nbRow(r)
	}
	if p.o.json {
		j := jsonRow{Test: p.t.name, Size: r.size, Value: r.goRes.avg, Unit: p.t.unit, Ranks: p.np,
			Iterations: r.iters, Warmup: r.skip}
		if r.hasMin {
			j.Min, j.Max = &r.goRes.min, &r.goRes.max
		}
		if len(p.o.algs) == 1 {
			j.Algorithm = p.o.algs[0].name
		}
		if r.hasC {
			q := ratio(r.goRes.avg, r.cRes.avg)
			j.CValue, j.Ratio = &r.cRes.avg, &q
		}
		return p.writeJSON(&j)
	}
	var b strings.Builder
	if p.t.class == barrier {
		fmt.Fprintf(&b, "%*.2f", barrierWidth, r.goRes.avg)
	} else {
		fmt.Fprintf(&b, "%-*d%*.2f", sizeWidth, r.size, fieldWidth, r.goRes.avg)
	}
	if p.o.full {
		fmt.Fprintf(&b, "%*.2f%*.2f%*d", fieldWidth, r.goRes.min, fieldWidth, r.goRes.max, itersWidth, r.iters)
	}
	if r.hasC {
		fmt.Fprintf(&b, "%*.2f%*.3f", fieldWidth, r.cRes.avg, fieldWidth, ratio(r.goRes.avg, r.cRes.avg))
	}
	b.WriteString("\n")
	_, err := io.WriteString(p.w, b.String())
	return err
}

// writeJSON prints j as one line of JSON.
func (p *printer) writeJSON(j *jsonRow) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = p.w.Write(append(b, '\n'))
	return err
}

// algRow prints a row of several -algorithm columns (or one JSON object per
// algorithm).
func (p *printer) algRow(r *row) error {
	var b strings.Builder
	if p.o.json {
		for i, a := range p.o.algs {
			res := r.algRes[i]
			j := jsonRow{Test: p.t.name, Algorithm: a.name, Size: r.size, Value: res.avg, Unit: p.t.unit,
				Ranks: p.np, Iterations: r.iters, Warmup: r.skip, Min: &res.min, Max: &res.max}
			line, err := json.Marshal(j)
			if err != nil {
				return err
			}
			b.Write(append(line, '\n'))
		}
	} else {
		fmt.Fprintf(&b, "%-*d", sizeWidth, r.size)
		for _, res := range r.algRes {
			fmt.Fprintf(&b, "%*.2f", fieldWidth, res.avg)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

// nbRow prints a row of a nonblocking collective test: the overall,
// compute and pure communication times averaged over ranks and the overlap
// computed from them; with -compare-c the C loop's overall time and
// overlap and the Go/C ratio of the overall times. -json gives the overall time as the value and the others as
// compute, pure_comm and overlap (c_value, ratio and c_overlap with
// -compare-c).
func (p *printer) nbRow(r *row) error {
	nb := r.nb
	ov := overlap(nb.overall, nb.compute, nb.comm)
	if p.o.json {
		j := jsonRow{Test: p.t.name, Size: r.size, Value: nb.overall, Unit: p.t.unit, Ranks: p.np,
			Iterations: r.iters, Warmup: r.skip, Compute: &nb.compute, PureComm: &nb.comm, Overlap: &ov}
		if len(p.o.algs) == 1 {
			j.Algorithm = p.o.algs[0].name
		}
		if c := r.nbC; c != nil {
			q, cov := ratio(nb.overall, c.overall), overlap(c.overall, c.compute, c.comm)
			j.CValue, j.Ratio, j.COverlap = &c.overall, &q, &cov
		}
		return p.writeJSON(&j)
	}
	var b strings.Builder
	if p.t.class != barrier {
		fmt.Fprintf(&b, "%-*d", sizeWidth, r.size)
	}
	fmt.Fprintf(&b, "%*.2f%*.2f%*.2f%*.2f", nbWidth, nb.overall, nbWidth, nb.compute, nbWidth, nb.comm, nbWidth, ov)
	if c := r.nbC; c != nil {
		fmt.Fprintf(&b, "%*.2f%*.2f%*.3f", nbWidth, c.overall, nbWidth, overlap(c.overall, c.compute, c.comm),
			nbWidth, ratio(nb.overall, c.overall))
	}
	b.WriteString("\n")
	_, err := io.WriteString(p.w, b.String())
	return err
}
