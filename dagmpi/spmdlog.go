package dagmpi

import "fmt"

// The consistency check (checkSPMD) compares the rolling hash of each
// rank's submission stream at Wait. When the hashes or task counts differ,
// the report names the first task where the streams diverge. For that,
// each rank keeps, since the last check that passed:
//
//   - a checkpoint log: the rolling hash after every every-th task. When the
//     log is full, every other entry is dropped and every doubles, so the
//     log stays below spmdChk entries however many tasks are submitted, and
//     still brackets the first divergence within every tasks;
//   - a ring of the last spmdRing tasks: the rolling hash after each, its
//     name and its rank. These are plain stores into fixed arrays, so the
//     fast path of Submit allocates nothing.
//
// On a mismatch, one collective on the checkpoints brackets the first
// divergence; if that window lies within the tasks every rank still has in
// its ring, a second collective on the per-task hashes finds the exact
// index, and each rank names its own task at that index. Under WithPruned
// the streams differ by design, the hash is not kept or compared and there
// is no log.
const (
	spmdEvery = 64  // checkpoint spacing after a passed check (a power of two)
	spmdChk   = 256 // checkpoint log capacity (even)
	spmdRing  = 256 // tasks kept by name (a power of two)
)

// spmdLog is the submitter-owned record behind the non-SPMD report.
type spmdLog struct {
	base  uint64   // tasks submitted when the last check passed
	every uint64   // checkpoint spacing
	at    uint64   // index of the task after which the next checkpoint is taken
	chk   []uint64 // chk[i]: rolling hash after base+(i+1)*every tasks
	ring  [spmdRing]ringTask
}

// ringTask is one task of the ring: the rolling hash after it, its name
// and the rank that runs it.
type ringTask struct {
	hash uint64
	name string
	exec int
}

func newSPMDLog() *spmdLog {
	l := &spmdLog{chk: make([]uint64, 0, spmdChk)}
	l.reset(0)
	return l
}

// reset starts a new record after a check passed with n tasks submitted.
func (l *spmdLog) reset(n uint64) {
	l.base, l.every, l.at = n, spmdEvery, n+spmdEvery-1
	l.chk = l.chk[:0]
}

// note records task seq, after which the rolling hash is h.
func (l *spmdLog) note(seq, h uint64, name string, exec int) {
	l.ring[seq&(spmdRing-1)] = ringTask{h, name, exec}
	if seq == l.at {
		l.checkpoint(h)
	}
}

// checkpoint is kept out of line so that note inlines into Submit.
//
//go:noinline
func (l *spmdLog) checkpoint(h uint64) {
	l.chk = append(l.chk, h)
	if len(l.chk) == spmdChk {
		// Keep the entries at multiples of 2*every.
		for i := 0; i < spmdChk/2; i++ {
			l.chk[i] = l.chk[2*i+1]
		}
		l.chk = l.chk[:spmdChk/2]
		l.every *= 2
	}
	l.at = l.base + uint64(len(l.chk)+1)*l.every - 1
}

// divergence locates the first task where the submission streams differ,
// given the smallest and largest task counts over the ranks. It is
// collective: every rank calls it after the same failed comparison. It
// returns a phrase for the report, starting with "first difference".
func (rt *Runtime) divergence(minN, maxN uint64) (string, error) {
	l := rt.slog
	// Bring the checkpoint logs to the coarsest spacing of any rank; all
	// spacings are spmdEvery times a power of two. (The reductions take
	// distinct in and out slices: MPI forbids aliasing them.)
	e := make([]uint64, 1)
	if err := rt.control(OpMax, []uint64{l.every}, e); err != nil {
		return "", err
	}
	every, stride := e[0], e[0]/l.every
	common := (minN - l.base) / every // checkpoints every rank has
	common = min(common, spmdChk)
	v := make([]uint64, 2*spmdChk)
	for j := uint64(0); j < common; j++ {
		// Every rank has these entries (its count is at least minN); the
		// test only guards against a log that broke that invariant.
		if k := (j+1)*stride - 1; k < uint64(len(l.chk)) {
			h := l.chk[k]
			v[j], v[spmdChk+j] = h, ^h
		}
	}
	v, vin := make([]uint64, len(v)), v
	if err := rt.control(OpMax, vin, v); err != nil {
		return "", err
	}
	lo, hi := l.base+common*every, minN // the first divergence is at an index in [lo, hi]
	for j := uint64(0); j < common; j++ {
		if v[j] != ^v[spmdChk+j] {
			lo, hi = l.base+j*every, l.base+(j+1)*every-1
			break
		}
	}
	if hi > minN {
		hi = minN
	}
	// Every rank has tasks [maxN-spmdRing, minN) in its ring.
	if maxN > spmdRing && lo < maxN-spmdRing {
		return fmt.Sprintf("first difference between task #%d and #%d (only the last %d tasks are kept by name: call Wait more often to narrow it down)",
			lo, hi, spmdRing), nil
	}
	n := hi - lo // per-task hashes to compare: tasks lo..hi-1
	w := make([]uint64, 2*spmdRing)
	for k := uint64(0); k < n; k++ {
		h := l.ring[(lo+k)&(spmdRing-1)].hash
		w[k], w[spmdRing+k] = h, ^h
	}
	w, win := make([]uint64, len(w)), w
	if err := rt.control(OpMax, win, w); err != nil {
		return "", err
	}
	d := hi
	for k := uint64(0); k < n; k++ {
		if w[k] != ^w[spmdRing+k] {
			d = lo + k
			break
		}
	}
	if d == minN && minN == maxN {
		return fmt.Sprintf("first difference after the last task (#%d): the Data created after it differ", d-1), nil
	}
	if d >= rt.nsub {
		return fmt.Sprintf("first difference at task #%d: this rank submitted no task #%d", d, d), nil
	}
	t := &l.ring[d&(spmdRing-1)]
	what := "an unnamed task"
	if t.name != "" {
		what = fmt.Sprintf("task %q", t.name)
	}
	return fmt.Sprintf("first difference at task #%d: here %s (#%d, runs on rank %d) or a NewData just before it",
		d, what, d, t.exec), nil
}
