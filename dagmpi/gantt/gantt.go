// Package gantt draws the schedule recorded by a dagmpi.ChromeTrace as a
// PNG Gantt chart: one row per worker and one per rank's transfers, time
// along the x axis, a bar for every task and every transfer. Where the
// Chrome/Perfetto viewer is for exploring, the picture is for a report or a
// quick look at where a run spent its time (idle gaps, serialised
// transfers, one rank waiting for another).
//
// The input is the JSON array that ChromeTrace.WriteTo writes; with one
// process per rank, pass every rank's file and the events are merged (their
// timestamps are wall-clock microseconds). Everything here is local: no MPI.
package gantt

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"image/color"
	"io"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Span is one bar: a task or a transfer on one row.
type Span struct {
	Rank  int     // the process (Chrome pid)
	Track int     // the worker, or the transfer track (Chrome tid)
	Name  string  // the task's name, or "send d3" / "recv d3"
	Cat   string  // "task" or "transfer"
	Start float64 // microseconds, wall clock
	End   float64
}

// Trace is a parsed trace: its bars and the names of its rows.
type Trace struct {
	Spans []Span
	names map[[2]int]string // (rank, track) -> "worker 0", "transfers"
}

type event struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  float64        `json:"dur"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Args map[string]any `json:"args"`
}

// Read parses one or more traces written by dagmpi.ChromeTrace and merges
// them. Complete events ("X") become spans; thread_name metadata names the
// rows; flow and other events are ignored.
func Read(rs ...io.Reader) (*Trace, error) {
	t := &Trace{names: map[[2]int]string{}}
	for i, r := range rs {
		var evs []event
		if err := json.NewDecoder(r).Decode(&evs); err != nil {
			return nil, fmt.Errorf("gantt: trace %d: %w", i, err)
		}
		for _, e := range evs {
			switch e.Ph {
			case "X":
				t.Spans = append(t.Spans, Span{Rank: e.Pid, Track: e.Tid, Name: e.Name, Cat: e.Cat, Start: e.Ts, End: e.Ts + e.Dur})
			case "M":
				if e.Name == "thread_name" {
					if n, ok := e.Args["name"].(string); ok {
						t.names[[2]int{e.Pid, e.Tid}] = n
					}
				}
			}
		}
	}
	return t, nil
}

// Options control the picture.
type Options struct {
	Width, Height vg.Length // default 24 cm by 2 cm + 0.8 cm per row
	Title         string    // default "spmd schedule"
}

// row is one horizontal lane of the chart.
type row struct{ rank, track int }

// Rows returns the chart's rows, top to bottom: ranks in order, each rank's
// workers in order, then its transfer track.
func (t *Trace) Rows() []string {
	rows := t.rows()
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = t.rowName(r)
	}
	return out
}

func (t *Trace) rows() []row {
	seen := map[row]bool{}
	var rows []row
	for _, s := range t.Spans {
		r := row{s.Rank, s.Track}
		if !seen[r] {
			seen[r] = true
			rows = append(rows, r)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].rank != rows[j].rank {
			return rows[i].rank < rows[j].rank
		}
		return rows[i].track < rows[j].track
	})
	return rows
}

func (t *Trace) rowName(r row) string {
	n, ok := t.names[[2]int{r.rank, r.track}]
	if !ok {
		n = fmt.Sprintf("track %d", r.track)
	}
	return fmt.Sprintf("rank %d %s", r.rank, n)
}

// ErrEmpty is returned when a trace has no task or transfer to draw.
var ErrEmpty = errors.New("gantt: the trace has no task or transfer events")

// WritePNG draws the chart and writes it to w as a PNG.
func (t *Trace) WritePNG(w io.Writer, o Options) error {
	if len(t.Spans) == 0 {
		return ErrEmpty
	}
	rows := t.rows()
	index := make(map[row]int, len(rows))
	names := make([]string, len(rows))
	for i, r := range rows {
		// NominalY puts the first name at the bottom: reverse so rank 0's
		// first worker is on top.
		index[r] = len(rows) - 1 - i
		names[len(rows)-1-i] = t.rowName(r)
	}
	t0 := math.Inf(1)
	for _, s := range t.Spans {
		t0 = math.Min(t0, s.Start)
	}
	p := plot.New()
	p.Title.Text = o.Title
	if p.Title.Text == "" {
		p.Title.Text = "spmd schedule"
	}
	p.X.Label.Text = "time (ms)"
	p.NominalY(names...)
	p.Add(&bars{t: t, index: index, t0: t0})
	// A legend entry per task name (in first-seen order) and per transfer
	// direction.
	seen := map[string]bool{}
	for _, s := range t.Spans {
		key := s.Name
		if s.Cat == "transfer" {
			key = "receive"
			if strings.HasPrefix(s.Name, "send") {
				key = "send"
			}
		}
		if !seen[key] {
			seen[key] = true
			p.Legend.Add(key, swatch(Color(s)))
		}
	}
	p.Legend.Top = true
	p.X.Min = 0
	_, xmax, _, _ := (&bars{t: t, t0: t0}).DataRange()
	p.X.Max = xmax * 1.25 // room on the right for the legend
	if o.Width == 0 {
		o.Width = 24 * vg.Centimeter
	}
	if o.Height == 0 {
		o.Height = 2*vg.Centimeter + vg.Length(len(rows))*0.8*vg.Centimeter
	}
	c := vgimg.New(o.Width, o.Height)
	p.Draw(draw.New(c))
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// bars is the plot.Plotter that draws the spans.
type bars struct {
	t     *Trace
	index map[row]int
	t0    float64
}

// DataRange implements plot.DataRanger.
func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmax = 0
	for _, s := range b.t.Spans {
		xmax = math.Max(xmax, (s.End-b.t0)/1e3)
	}
	return 0, xmax, -0.5, float64(len(b.index)) - 0.5
}

// Plot implements plot.Plotter.
func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	for _, s := range b.t.Spans {
		y := float64(b.index[row{s.Rank, s.Track}])
		x0, x1 := tx((s.Start-b.t0)/1e3), tx((s.End-b.t0)/1e3)
		if x1-x0 < 0.5 { // keep sub-pixel tasks visible
			x1 = x0 + 0.5
		}
		y0, y1 := ty(y-0.35), ty(y+0.35)
		pts := []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
		c.FillPolygon(Color(s), c.ClipPolygonXY(pts))
	}
}

// swatch is a legend thumbnail of one colour.
type swatch color.RGBA

func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(color.RGBA(s), pts)
}

// Color is the bar colour of a span: transfers in grey (sends darker than
// receives), tasks by a stable hash of their name, so tasks of one kind
// share a colour across ranks and runs.
func Color(s Span) color.RGBA {
	if s.Cat == "transfer" {
		if strings.HasPrefix(s.Name, "send") {
			return color.RGBA{R: 90, G: 90, B: 110, A: 255}
		}
		return color.RGBA{R: 160, G: 160, B: 180, A: 255}
	}
	h := fnv.New32a()
	h.Write([]byte(s.Name))
	return palette[h.Sum32()%uint32(len(palette))]
}

var palette = []color.RGBA{
	{R: 31, G: 119, B: 180, A: 255}, {R: 255, G: 127, B: 14, A: 255}, {R: 44, G: 160, B: 44, A: 255},
	{R: 214, G: 39, B: 40, A: 255}, {R: 148, G: 103, B: 189, A: 255}, {R: 140, G: 86, B: 75, A: 255},
	{R: 227, G: 119, B: 194, A: 255}, {R: 188, G: 189, B: 34, A: 255}, {R: 23, G: 190, B: 207, A: 255},
}
