// Command spmd-gantt draws the schedule of a dagmpi run as a PNG Gantt
// chart from the Chrome trace files the run wrote (dagmpi.ChromeTrace; with
// one process per rank, give every rank's file):
//
//	spmd-gantt -o schedule.png trace-rank0.json trace-rank1.json
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"gonum.org/v1/plot/vg"

	"github.com/spmd-go/spmd/dagmpi/gantt"
)

func main() {
	out := flag.String("o", "schedule.png", "the PNG to write")
	title := flag.String("title", "", "chart title (default \"spmd schedule\")")
	width := flag.Float64("width", 24, "width in cm")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: spmd-gantt [-o out.png] trace.json...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *title, *width, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "spmd-gantt:", err)
		os.Exit(1)
	}
}

func run(out, title string, width float64, files []string) error {
	var rs []io.Reader
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		rs = append(rs, f)
	}
	tr, err := gantt.Read(rs...)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := tr.WritePNG(f, gantt.Options{Title: title, Width: vg.Length(width) * vg.Centimeter}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
