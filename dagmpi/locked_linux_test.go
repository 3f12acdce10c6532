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
	w, err := inproc.NewWorld(inproc.Config{Ranks: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	trs := make([]*tidTransport, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for r := range 2 {
		trs[r] = &tidTransport{Transport: w.Endpoint(r), tids: map[int]int{}}
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			rt, err := dagmpi.New(trs[r], dagmpi.WithLockedThread(), dagmpi.WithOwnedTransport(), dagmpi.WithWorkers(2))
			if err != nil {
				errs[r] = err
				return
			}
			d, err := dagmpi.NewData[float64](rt, 1, 0, nil)
			if err == nil {
				for i := range 300 {
					if err = rt.Submit(func(tk *dagmpi.Task) error {
						d.Buf(tk)[0]++
						return nil
					}, d.ReadWrite(), dagmpi.OnRank(i%2)); err != nil {
						break
					}
				}
			}
			if err == nil {
				var v []float64
				if v, err = d.FetchAll(); err == nil && v[0] != 300 {
					t.Errorf("rank %d: value %v, want 300", r, v[0])
				}
			}
			if cerr := rt.Close(); err == nil {
				err = cerr
			}
			errs[r] = err
		}(r)
	}
	wg.Wait()
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
