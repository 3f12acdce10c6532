package dagmpi

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"sync"
)

// Graph records a submitted task graph as every rank sees it (see
// WithGraph), for a DOT picture. Record small graphs only.
type Graph struct {
	mu    sync.Mutex
	data  []gData
	tasks []gTask
	edges []gEdge
}

type gData struct {
	home    int
	lastW   int   // task index of the last writer, -1 for the initial version
	readers []int // tasks that read the current version
}

type gTask struct {
	seq  uint64
	name string
	rank int
}

type gEdge struct {
	from, to int // task indices; -1 is "initial data"
	data     int
	kind     string // RAW, WAR, WAW
}

func (g *Graph) addData(id, home int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.data) <= id {
		g.data = append(g.data, gData{lastW: -1})
	}
	g.data[id] = gData{home: home, lastW: -1}
}

func (g *Graph) addTask(seq uint64, name string, rank int, acc []access) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := len(g.tasks)
	g.tasks = append(g.tasks, gTask{seq: seq, name: name, rank: rank})
	for _, a := range acc {
		d := &g.data[a.h.id]
		if a.mode&Read != 0 && d.lastW >= 0 {
			g.edges = append(g.edges, gEdge{from: d.lastW, to: t, data: a.h.id, kind: "RAW"})
		}
		if a.mode&Write != 0 {
			for _, r := range d.readers {
				if r != t {
					g.edges = append(g.edges, gEdge{from: r, to: t, data: a.h.id, kind: "WAR"})
				}
			}
			if a.mode&Read == 0 && len(d.readers) == 0 && d.lastW >= 0 {
				g.edges = append(g.edges, gEdge{from: d.lastW, to: t, data: a.h.id, kind: "WAW"})
			}
			d.lastW = t
			d.readers = d.readers[:0]
		} else {
			d.readers = append(d.readers, t)
		}
	}
}

// WriteDOT writes the graph in Graphviz DOT: one cluster per rank, one node
// per task, edges labelled with the Data and the hazard (RAW edges that
// cross ranks are transfers and drawn bold).
func (g *Graph) WriteDOT(w io.Writer) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph dagmpi {")
	fmt.Fprintln(bw, "\trankdir=TB;")
	fmt.Fprintln(bw, "\tnode [shape=box, fontname=\"Helvetica\"];")
	maxRank := -1
	for _, t := range g.tasks {
		maxRank = max(maxRank, t.rank)
	}
	for r := 0; r <= maxRank; r++ {
		fmt.Fprintf(bw, "\tsubgraph cluster_rank%d {\n\t\tlabel=\"rank %d\";\n", r, r)
		for i, t := range g.tasks {
			if t.rank == r {
				label := t.name
				if label == "" {
					label = "task"
				}
				fmt.Fprintf(bw, "\t\tt%d [label=%s];\n", i, strconv.Quote(fmt.Sprintf("%s #%d", label, t.seq)))
			}
		}
		fmt.Fprintln(bw, "\t}")
	}
	for _, e := range g.edges {
		style := ""
		if e.kind == "RAW" && g.tasks[e.from].rank != g.tasks[e.to].rank {
			style = ", style=bold"
		} else if e.kind != "RAW" {
			style = ", style=dashed"
		}
		fmt.Fprintf(bw, "\tt%d -> t%d [label=\"d%d %s\"%s];\n", e.from, e.to, e.data, e.kind, style)
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}
