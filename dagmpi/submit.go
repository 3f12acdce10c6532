package dagmpi

import (
	"fmt"
	"math/bits"
)

type argKind uint8

const (
	argNone argKind = iota
	argAccess
	argName
	argPriority
	argRank
	argDevice
)

// Arg is one argument of Submit: a data access (Data.Read, Data.Write,
// Data.ReadWrite) or an option (Name, Priority, OnRank). It is a plain
// value so that building the argument list allocates nothing.
type Arg struct {
	kind argKind
	mode Mode
	h    *handle
	i    int
	s    string
	d    *DevicePool
}

// Name names the task in traces, graphs and error messages.
func Name(s string) Arg { return Arg{kind: argName, s: s} }

// Priority orders ready tasks on their rank: higher first (default 0).
// Give critical-path tasks higher priorities.
func Priority(p int) Arg { return Arg{kind: argPriority, i: p} }

// OnRank runs the task on rank r instead of its owner.
func OnRank(r int) Arg { return Arg{kind: argRank, i: r} }

// Task is what a task body receives: the task's identity and, through
// Data.Buf, its local buffers. It is valid only while the body runs.
type Task struct {
	rt     *Runtime
	op     *op
	worker int
}

// Name returns the task's name.
func (t *Task) Name() string { return t.op.name }

// Seq returns the task's submission index (the same on every rank).
func (t *Task) Seq() uint64 { return t.op.seq }

// Rank returns the rank running the task.
func (t *Task) Rank() int { return t.rt.me }

// Worker returns the index of the worker goroutine running the task, or
// Runtime.Workers() when the task runs on the progress goroutine (see
// WithInline).
func (t *Task) Worker() int { return t.worker }

// Submit adds a task to the graph. Every rank calls it with the same
// arguments in the same order (the body may differ, only the rank that runs
// the task calls it). The task runs on the rank given by OnRank if any,
// otherwise on the rank holding the latest version of the first Data it
// writes, otherwise of the first Data it reads, otherwise on rank 0. Its
// body runs once every earlier task it conflicts with is done and its
// inputs have arrived; an error or panic from it ends the job.
//
// On a rank that neither runs the task nor sends it data, Submit only
// updates the location of the versions the task writes: it allocates
// nothing and keeps nothing, body included.
//
// Submit returns an error for malformed arguments and, once the job has
// failed, the failure.
func (rt *Runtime) Submit(body func(*Task) error, args ...Arg) error {
	if rt.closed {
		return ErrClosed
	}
	acc := rt.scratch[:0]
	name, prio, exec := "", 0, -1
	rt.dev.sub = nil
	for i := range args {
		a := &args[i]
		switch a.kind {
		case argAccess:
			if a.h == nil {
				return fmt.Errorf("dagmpi: Submit: argument %d: access to a nil Data", i)
			}
			if a.h.rt != rt {
				return fmt.Errorf("dagmpi: Submit: argument %d: Data %d belongs to another Runtime", i, a.h.id)
			}
			for j := range acc {
				if acc[j].h == a.h {
					return fmt.Errorf("dagmpi: Submit: argument %d: Data %d appears twice; declare one access with the combined mode", i, a.h.id)
				}
			}
			acc = append(acc, access{h: a.h, mode: a.mode})
		case argName:
			name = a.s
		case argPriority:
			prio = a.i
		case argRank:
			if a.i < 0 || a.i >= rt.size {
				return fmt.Errorf("dagmpi: Submit: argument %d: OnRank(%d) outside [0, %d)", i, a.i, rt.size)
			}
			exec = a.i
		case argDevice:
			if a.d == nil {
				return fmt.Errorf("dagmpi: Submit: argument %d: OnDevice(nil)", i)
			}
			rt.dev.sub = a.d
		default:
			return fmt.Errorf("dagmpi: Submit: argument %d: zero Arg", i)
		}
	}
	rt.scratch = acc
	if rt.dev.sub != nil || len(rt.dev.pools) > 0 {
		if err := rt.checkDeviceArgs(acc, rt.dev.sub); err != nil { // device.go
			return err
		}
	}
	if exec < 0 {
		exec = 0
		found := false
		for i := range acc {
			if acc[i].mode&Write != 0 {
				exec, found = acc[i].h.loc, true
				break
			}
		}
		if !found && len(acc) > 0 {
			exec = acc[0].h.loc
		}
	}
	seq := rt.nsub
	rt.nsub++
	if !rt.cfg.pruned {
		x := mix(rt.hash, uint64(exec)<<32^uint64(len(acc))^uint64(uint32(prio))<<40)
		for i := range acc {
			x = mix(x, uint64(acc[i].h.id)<<2|uint64(acc[i].mode))
		}
		rt.hash = x
		if l := rt.slog; l != nil {
			l.note(seq, x, name, exec)
		}
	}
	if g := rt.cfg.graph; g != nil {
		g.addTask(seq, name, exec, acc)
	}

	me := rt.me
	if rt.cfg.tree {
		// Every rank derives each read's source from the tree, and records
		// new readers, whether or not it takes part; a Data below the
		// tree's size moves flat (noTree).
		rt.srcs = rt.srcs[:0]
		for i := range acc {
			src := -1
			switch h := acc[i].h; {
			case h.bytes < rt.cfg.treeMin:
				src = noTree
			case acc[i].mode&Read != 0:
				src = h.treeSource(exec)
			}
			rt.srcs = append(rt.srcs, int32(src))
		}
	}
	if exec != me {
		// Fast path: does this rank send anything for the task?
		sends := false
		for i := range acc {
			if rt.sendsFor(i, acc[i], exec) {
				sends = true
				break
			}
		}
		if !sends {
			for i := range acc {
				if acc[i].mode&Write != 0 {
					rt.remoteWrite(acc[i].h, exec)
				}
			}
			return nil
		}
		return rt.submitSends(seq, name, exec, acc)
	}
	return rt.submitLocal(body, seq, name, prio, acc)
}

// sendsFor reports whether this rank must send the version of access i
// (of the task being submitted) to rank exec.
func (rt *Runtime) sendsFor(i int, a access, exec int) bool {
	if a.mode&Read == 0 {
		return false
	}
	if rt.cfg.tree && rt.srcs[i] != noTree {
		return int(rt.srcs[i]) == rt.me
	}
	return a.h.loc == rt.me && !a.h.sentTo(exec)
}

// noTree marks, in Runtime.srcs, an access to a Data too small for the
// broadcast tree (WithBroadcastTreeFrom): it moves from its location.
const noTree = -2

// treeSource returns the rank that sends the latest version to a task on
// exec that reads it, along the broadcast tree (see WithBroadcastTree), or
// -1 when exec already has it; a new reader joins the tree.
func (h *handle) treeSource(exec int) int {
	if exec == h.loc {
		return -1
	}
	for _, c := range h.cons {
		if int(c) == exec {
			return -1
		}
	}
	h.cons = append(h.cons, int32(exec))
	k := len(h.cons) // exec is node k
	p := k &^ (1 << (bits.Len(uint(k)) - 1))
	if p == 0 {
		return h.loc
	}
	return int(h.cons[p-1])
}

// sentTo reports whether the latest version (located here) already went to r.
func (h *handle) sentTo(r int) bool {
	for _, s := range h.sent {
		if int(s) == r {
			return true
		}
	}
	return false
}

// remoteWrite records that rank exec wrote the newest version of h.
func (rt *Runtime) remoteWrite(h *handle, exec int) {
	h.ver++
	h.loc = exec
	h.sent = h.sent[:0]
	h.cons = h.cons[:0]
	if r := h.rep; r != nil {
		h.rep = nil
		rt.mu.Lock()
		r.attached = false
		if r.refs == 0 {
			r.drop()
		}
		rt.mu.Unlock()
	}
}

// throttleLocked waits while the pending bound is reached.
func (rt *Runtime) throttleLocked(need int) error {
	// Once blocked, wait until a quarter of the bound has drained, not one
	// operation: a submitter woken per finished task would pay a wake-up
	// each.
	for rt.pending+need > rt.cfg.maxPending && rt.pending > 0 && rt.err == nil {
		rt.waitUserLocked(max(0, rt.cfg.maxPending-rt.cfg.maxPending/4-need), nil)
	}
	return rt.err
}

// submitSends builds the sends this rank owes a task that runs on exec.
func (rt *Runtime) submitSends(seq uint64, name string, exec int, acc []access) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if err := rt.throttleLocked(len(acc)); err != nil {
		return err
	}
	me := rt.me
	for i := range acc {
		h := acc[i].h
		if !rt.sendsFor(i, acc[i], exec) {
			continue
		}
		if h.rep == nil {
			panic("dagmpi: internal error: a version sent from here has no replica")
		}
		s := rt.newOpLocked(opSend)
		s.seq, s.name, s.peer, s.rep = seq, name, exec, h.rep
		s.fwd = h.loc != me // WithBroadcastTree: a received copy moves on
		s.pseq = rt.sendSeq[exec]
		rt.sendSeq[exec]++
		rt.xhash += xferID(me, exec, s.pseq, h)
		h.sent = append(h.sent, int32(exec))
		rt.trackLocked(h.rep, s, Read)
		rt.releaseLocked(s)
	}
	for i := range acc {
		if acc[i].mode&Write != 0 {
			h := acc[i].h
			h.ver++
			h.loc = exec
			h.sent = h.sent[:0]
			h.cons = h.cons[:0]
			if r := h.rep; r != nil {
				h.rep = nil
				r.attached = false
				if r.refs == 0 {
					r.drop()
				}
			}
		}
	}
	return nil
}

// submitLocal builds a task this rank runs, with the receives it needs.
func (rt *Runtime) submitLocal(body func(*Task) error, seq uint64, name string, prio int, acc []access) error {
	// Allocate fresh buffers for write-only accesses outside the lock.
	var fresh [4][]byte
	for i := range acc {
		if i < len(fresh) && acc[i].mode == Write && acc[i].h.rep == nil {
			fresh[i] = acc[i].h.alloc()
		}
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if err := rt.throttleLocked(len(acc) + 1); err != nil {
		return err
	}
	me := rt.me
	t := rt.newOpLocked(opTask)
	t.seq, t.name, t.prio, t.body = seq, name, prio, body
	if rt.dev.sub != nil {
		rt.deviceTaskLocked(t, rt.dev.sub) // device.go
	}
	if len(acc) <= len(t.accs) {
		t.acc = t.accs[:len(acc)]
	} else {
		t.acc = make([]access, len(acc))
	}
	for i := range acc {
		h, mode := acc[i].h, acc[i].mode
		r := h.rep
		if r == nil {
			r = &replica{h: h, attached: true}
			h.rep = r
			if mode&Read != 0 {
				// The latest version lives on h.loc: receive it (from its
				// parent in the broadcast tree, with WithBroadcastTree).
				src := h.loc
				if rt.cfg.tree && rt.srcs[i] != noTree {
					src = int(rt.srcs[i])
				}
				if src == me {
					// Unreachable through the API; fail loudly rather than
					// wait for a message from ourselves.
					err := &failure{kind: ErrNotSPMD, msg: fmt.Sprintf(
						"dagmpi: rank %d: internal error: task %q (#%d) reads Data %d, recorded on this rank but never produced here", me, name, seq, h.id)}
					rt.failLocked(err, true)
					return err
				}
				v := rt.newOpLocked(opRecv)
				v.seq, v.name, v.peer, v.rep = seq, name, src, r
				v.pseq = rt.recvSeq[src]
				rt.recvSeq[src]++
				rt.xhash -= xferID(src, me, v.pseq, h)
				rt.trackLocked(r, v, Write)
				rt.releaseLocked(v)
			} else if i < len(fresh) {
				r.buf = fresh[i]
			} else {
				r.buf = h.alloc()
			}
		}
		t.acc[i] = access{h: h, mode: mode, rep: r, ridx: -1}
		rt.trackLocked(r, t, mode)
		if mode&Write != 0 {
			h.ver++
			h.loc = me
			h.sent = h.sent[:0]
			h.cons = h.cons[:0]
		}
	}
	rt.releaseLocked(t)
	return nil
}

// releaseLocked drops the construction guard of o.
func (rt *Runtime) releaseLocked(o *op) {
	o.npred--
	if o.npred == 0 {
		rt.readyLocked(o)
	}
}

const (
	fnvOffset = 14695981039346656037 // seed of the submission hash
)

// mix folds v into the hash h (a multiply-xorshift step; not cryptographic).
func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0x9e3779b97f4a7c15
	h ^= h >> 29
	return h
}

// xferID names one transfer identically on both sides.
func xferID(src, dst int, pseq uint64, h *handle) uint64 {
	x := mix(uint64(src)<<32|uint64(dst), pseq)
	return mix(x, uint64(h.id)<<32|uint64(uint32(h.bytes)))
}
