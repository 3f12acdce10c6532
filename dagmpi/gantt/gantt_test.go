package gantt_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/gantt"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// traceOfRun runs a small two-rank job on the in-process transport and
// returns its Chrome trace: a "scale" task on each rank, then an "axpy" on
// rank 1 that reads rank 0's data (one transfer).
func traceOfRun(t *testing.T) []byte {
	world, err := inproc.NewWorld(inproc.Config{Ranks: 2})
	require.NoError(t, err)
	tr := dagmpi.NewChromeTrace()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for r, ep := range world.Transports() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[r] = func() error {
				rt, err := dagmpi.New(ep, dagmpi.WithWorkers(2), dagmpi.WithObserver(tr))
				if err != nil {
					return err
				}
				// Contents only on the home rank.
				init := func(home int) []float64 {
					if r == home {
						return make([]float64, 1000)
					}
					return nil
				}
				x, err := dagmpi.NewData(rt, 1000, 0, init(0))
				if err != nil {
					return err
				}
				y, err := dagmpi.NewData(rt, 1000, 1, init(1))
				if err != nil {
					return err
				}
				scale := func(d *dagmpi.Data[float64]) func(*dagmpi.Task) error {
					return func(tk *dagmpi.Task) error {
						for i := range d.Buf(tk) {
							d.Buf(tk)[i] = 2*d.Buf(tk)[i] + 1
						}
						return nil
					}
				}
				rt.Submit(scale(x), x.ReadWrite(), dagmpi.Name("scale"))
				rt.Submit(scale(y), y.ReadWrite(), dagmpi.Name("scale"))
				rt.Submit(func(tk *dagmpi.Task) error {
					for i, v := range x.Buf(tk) {
						y.Buf(tk)[i] += v
					}
					return nil
				}, x.Read(), y.ReadWrite(), dagmpi.Name("axpy"))
				if err := rt.Wait(); err != nil {
					return err
				}
				return rt.Close()
			}()
		}()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	var b bytes.Buffer
	_, err = tr.WriteTo(&b)
	require.NoError(t, err)
	return b.Bytes()
}

func TestReadAndDraw(t *testing.T) {
	raw := traceOfRun(t)
	tr, err := gantt.Read(bytes.NewReader(raw))
	require.NoError(t, err)

	var tasks, sends, recvs int
	for _, s := range tr.Spans {
		assert.GreaterOrEqual(t, s.End, s.Start)
		switch {
		case s.Cat == "task":
			tasks++
		case strings.HasPrefix(s.Name, "send"):
			sends++
		case strings.HasPrefix(s.Name, "recv"):
			recvs++
		}
	}
	assert.Equal(t, 3, tasks, "scale on each rank and one axpy")
	assert.Equal(t, 1, sends, "x moves once from rank 0 to rank 1")
	assert.Equal(t, 1, recvs)
	rows := tr.Rows()
	assert.Contains(t, rows, "rank 0 transfers")
	assert.Contains(t, rows, "rank 1 transfers")
	assert.True(t, strings.HasPrefix(rows[0], "rank 0 worker"), "rank 0's workers come first: %v", rows)

	var png1 bytes.Buffer
	require.NoError(t, tr.WritePNG(&png1, gantt.Options{Title: "test"}))
	img, err := png.Decode(&png1)
	require.NoError(t, err)
	assert.Greater(t, img.Bounds().Dx(), 600)
	// Every kind of bar is on the picture in its colour.
	for _, s := range []gantt.Span{{Cat: "task", Name: "scale"}, {Cat: "task", Name: "axpy"}, {Cat: "transfer", Name: "send d0"}, {Cat: "transfer", Name: "recv d0"}} {
		assert.True(t, hasColour(img, gantt.Color(s)), "no %s bar of colour %v", s.Name, gantt.Color(s))
	}

	// Per-rank files of an MPI job merge into one chart.
	merged, err := gantt.Read(bytes.NewReader(raw), bytes.NewReader(raw))
	require.NoError(t, err)
	assert.Len(t, merged.Spans, 2*len(tr.Spans))
}

func hasColour(img image.Image, c color.RGBA) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if uint8(r>>8) == c.R && uint8(g>>8) == c.G && uint8(bl>>8) == c.B {
				return true
			}
		}
	}
	return false
}

func TestBadInput(t *testing.T) {
	_, err := gantt.Read(strings.NewReader("not json"))
	assert.ErrorContains(t, err, "gantt: trace 0")
	tr, err := gantt.Read(strings.NewReader(`[{"name":"process_name","ph":"M","pid":0}]`))
	require.NoError(t, err)
	assert.ErrorIs(t, tr.WritePNG(&bytes.Buffer{}, gantt.Options{}), gantt.ErrEmpty)
}
