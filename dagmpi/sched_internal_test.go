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

// TestReadyQueueOrder pushes and pops tasks in random interleavings, with
// long runs already in order (the sorted fast path) and tasks out of order
// (the heap), and checks every pop against the smallest queued task by
// priority, then submission.
func TestReadyQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 200; trial++ {
		var h readyHeap
		var queued []*op
		seq := uint64(0)
		for step := 0; step < 3000; step++ {
			if rng.Intn(3) > 0 || len(queued) == 0 {
				o := &op{}
				switch rng.Intn(4) {
				case 0: // out of order: an earlier submission, or a higher priority
					o.seq, o.prio = uint64(rng.Intn(int(seq)+1)), rng.Intn(3)
				default: // in order
					seq++
					o.seq, o.prio = seq, 0
				}
				h.push(o)
				queued = append(queued, o)
			} else {
				best := 0
				for i, o := range queued {
					if less(o, queued[best]) {
						best = i
					}
				}
				got := h.pop()
				if want := queued[best]; got.prio != want.prio || got.seq != want.seq {
					t.Fatalf("trial %d step %d: popped (prio %d, seq %d), want (prio %d, seq %d)", trial, step, got.prio, got.seq, want.prio, want.seq)
				}
				for i, o := range queued {
					if o == got {
						queued = append(queued[:i], queued[i+1:]...)
						break
					}
				}
			}
			if h.len() != len(queued) {
				t.Fatalf("len %d, want %d", h.len(), len(queued))
			}
		}
	}
}
