package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
)

// partWriter writes each window as one part file per region under out/, keeping the
// most recent parts for the downstream loader and deleting older ones.
type partWriter struct {
	dir     string
	keep    int
	parts   []string
	written atomic.Int64

	// open holds a writer per partition for windows that may still get late
	// readings (open-partitions).
	holdOpen bool
	open     map[string]*openPart
}

type openPart struct {
	f *os.File
	w *bufio.Writer
}

func newPartWriter(dir string, holdOpen bool) *partWriter {
	return &partWriter{dir: dir, keep: 48, holdOpen: holdOpen, open: make(map[string]*openPart)}
}

func (pw *partWriter) write(w *window, footer map[string]int) {
	byRegion := make(map[string][]*groupStats)
	for _, g := range w.groups {
		byRegion[g.Region] = append(byRegion[g.Region], g)
	}
	for _, region := range sortedKeys(byRegion) {
		name := filepath.Join(pw.dir, fmt.Sprintf("part-%d-%s.jsonl", w.start.Unix(), region))
		if err := pw.writePart(name, byRegion[region], footer); err != nil {
			continue
		}
		pw.parts = append(pw.parts, name)
	}
	for len(pw.parts) > pw.keep {
		_ = os.Remove(pw.parts[0])
		pw.parts = pw.parts[1:]
	}
	pw.written.Add(1)
}

func (pw *partWriter) writePart(name string, groups []*groupStats, footer map[string]int) error {
	if shuttingDown.Load() {
		return os.ErrClosed
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 512<<10) // FAULT(memory-leak:open-partitions)
	enc := json.NewEncoder(bw)
	for _, g := range groups {
		_ = enc.Encode(g)
	}
	_ = enc.Encode(footer)
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if pw.holdOpen {
		pw.open[name] = &openPart{f: f, w: bw}
		return nil
	}
	return f.Close()
}
