package dagmpi_test

import (
	"sync"
	"syscall"
	"testing"

	"github.com/spmd-go/spmd/dagmpi"
	"github.com/spmd-go/spmd/dagmpi/inproc"
)

// tidTransport records the OS thread of every call into the transport.
type tidTransport struct {
	dagmpi.Transport
	mu   sync.Mutex
	tids map[int]int
}

func (t *tidTransport) note() {
	t.mu.Lock()
	t.tids[syscall.Gettid()]++
	t.mu.Unlock()
}

func (t *tidTransport) Send(b []byte, dst, tag int, id uint64) error {
	t.note()
	return t.Transport.Send(b, dst, tag, id)
}

func (t *tidTransport) Recv(b []byte, src, tag int, id uint64) error {
	t.note()
	return t.Transport.Recv(b, src, tag, id)
}

func (t *tidTransport) Progress(out []dagmpi.Completion) ([]dagmpi.Completion, error) {
	t.note()
	return t.Transport.Progress(out)
}

// TestLockedThread checks that with WithLockedThread every call into the
// transport comes from one OS thread, on a chain that bounces between two
// ranks (many polls, sleeps and wake-ups), and that the values are right.
func TestLockedThread(t *testing.T) {
	var trs [2]*tidTransport
	wrap := func(tr dagmpi.Transport) dagmpi.Transport {
		w := &tidTransport{Transport: tr, tids: map[int]int{}}
		trs[tr.Rank()] = w
		return w
	}
	opts := []dagmpi.Option{dagmpi.WithLockedThread(), dagmpi.WithWorkers(2)}
	errs := spmdWith(t, inproc.Config{Ranks: 2, Seed: 3}, func(int) []dagmpi.Option { return opts }, wrap, func(rt *dagmpi.Runtime) error {
		d, err := dagmpi.NewData[float64](rt, 1, 0, nil)
		if err != nil {
			return err
		}
		for i := range 300 {
			if err := rt.Submit(func(tk *dagmpi.Task) error {
				d.Buf(tk)[0]++
				return nil
			}, d.ReadWrite(), dagmpi.OnRank(i%2)); err != nil {
				return err
			}
		}
		v, err := d.FetchAll()
		if err == nil && v[0] != 300 {
			t.Errorf("rank %d: value %v, want 300", rt.Rank(), v[0])
		}
		return err
	})
	for r := range 2 {
		if errs[r] != nil {
			t.Fatalf("rank %d: %v", r, errs[r])
		}
		calls := 0
		for _, n := range trs[r].tids {
			calls += n
		}
		if len(trs[r].tids) != 1 || calls < 300 {
			t.Errorf("rank %d: %d transport calls from %d OS threads, want at least 300 from one", r, calls, len(trs[r].tids))
		}
	}
}
