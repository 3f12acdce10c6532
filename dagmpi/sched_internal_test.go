package dagmpi

import (
	"math/rand"
	"testing"
)

// TestReaderBookkeeping tracks many readers and writers on one replica,
// finishes them in random order, and checks after every step that each
// reader's remembered position is right and that writers wait for exactly
// the readers before them.
func TestReaderBookkeeping(t *testing.T) {
	rt := &Runtime{}
	rt.pendHead.next, rt.pendHead.prev = &rt.pendHead, &rt.pendHead
	h := &handle{}
	r := &replica{h: h, attached: true}
	rng := rand.New(rand.NewSource(1))
	var live []*op
	newReader := func(kind opKind) *op {
		o := rt.newOpLocked(kind)
		if kind == opTask {
			o.acc = o.accs[:1]
			o.acc[0] = access{h: h, mode: Read, rep: r, ridx: -1}
		} else {
			o.rep = r
		}
		rt.trackLocked(r, o, Read)
		return o
	}
	check := func() {
		t.Helper()
		for i, o := range r.readers {
			if got := *o.readerPos(r); got != i {
				t.Fatalf("reader at %d remembers position %d", i, got)
			}
		}
	}
	for step := 0; step < 20000; step++ {
		switch x := rng.Intn(10); {
		case x < 5:
			kind := opTask
			if x == 0 {
				kind = opSend
			}
			live = append(live, newReader(kind))
		case x < 6:
			w := rt.newOpLocked(opTask)
			w.acc = w.accs[:1]
			w.acc[0] = access{h: h, mode: Write, rep: r, ridx: -1}
			before := len(r.readers)
			rt.trackLocked(r, w, Write)
			if before > 0 && int(w.npred) != 1+before {
				t.Fatalf("writer after %d readers waits for %d", before, w.npred-1)
			}
			if len(r.readers) != 0 || r.lastW != w {
				t.Fatal("a writer did not reset the readers")
			}
			live = append(live, w)
		default:
			if len(live) == 0 {
				continue
			}
			i := rng.Intn(len(live))
			o := live[i]
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			rt.untrackLocked(r, o)
			for _, p := range r.readers {
				if p == o {
					t.Fatal("a finished reader is still listed")
				}
			}
		}
		check()
	}
	if r.refs != len(live) {
		t.Errorf("refs = %d, want %d live operations", r.refs, len(live))
	}
}
