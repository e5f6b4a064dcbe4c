package main

import (
	"math"
	"sync"
	"time"
)

// groupStats is one (region, kind) group of a window.
type groupStats struct {
	Region string  `json:"region"`
	Kind   string  `json:"kind"`
	Count  int     `json:"count"`
	Sum    float64 `json:"sum"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Late   int     `json:"late"`
}

type window struct {
	start  time.Time
	groups map[string]*groupStats
}

// aggregator folds enriched readings into the current window; the flusher hands closed
// windows to the writer. Readings are deduplicated against the recent past, since the
// collector re-sends a spool file it is not sure was delivered.
type aggregator struct {
	variant string
	writer  *partWriter

	mu      sync.Mutex
	cur     *window
	seen    map[string]time.Time // readings seen recently, by id
	recent  []string             // the same, as a ring (window-rescan)
	recentI int
	dups    int
	late    int

	out     chan *window
	written chan struct{}
}

const dedupHorizon = 30000

func newAggregator(variant string, w *partWriter) *aggregator {
	a := &aggregator{variant: variant, writer: w, cur: newWindow(), seen: make(map[string]time.Time),
		out: make(chan *window), written: make(chan struct{})}
	go a.writeLoop()
	return a
}

func newWindow() *window {
	return &window{start: time.Now(), groups: make(map[string]*groupStats)}
}

func (a *aggregator) consume(in <-chan reading) {
	for r := range in {
		a.mu.Lock()
		if !a.duplicate(r.ID) {
			a.add(r)
		}
		a.mu.Unlock()
	}
}

func (a *aggregator) duplicate(id string) bool {
	if a.variant == "window-rescan" {
		for _, old := range a.recent {
			if old == id { // FAULT(cpu-saturation:window-rescan)
				a.dups++
				return true
			}
		}
		if len(a.recent) < dedupHorizon {
			a.recent = append(a.recent, id)
		} else {
			a.recent[a.recentI] = id
			a.recentI = (a.recentI + 1) % dedupHorizon
		}
		return false
	}
	if _, ok := a.seen[id]; ok {
		a.dups++
		return true
	}
	a.seen[id] = time.Now()
	return false
}

func (a *aggregator) add(r reading) {
	key := r.Region + "/" + r.Kind
	g := a.cur.groups[key]
	if g == nil {
		g = &groupStats{Region: r.Region, Kind: r.Kind, Min: math.Inf(1), Max: math.Inf(-1)}
		a.cur.groups[key] = g
	}
	g.Count++
	g.Sum += r.Value
	g.Min = math.Min(g.Min, r.Value)
	g.Max = math.Max(g.Max, r.Value)
	if time.UnixMilli(r.At).Before(a.cur.start) {
		g.Late++
		a.late++
	}
}

// flushEvery closes the window every period and hands it to the writer.
func (a *aggregator) flushEvery(period time.Duration) {
	for range time.Tick(period) {
		a.mu.Lock()
		w := a.cur
		a.cur = newWindow()
		// forget ids older than the dedup horizon
		cutoff := time.Now().Add(-time.Minute)
		for id, at := range a.seen {
			if at.Before(cutoff) {
				delete(a.seen, id)
			}
		}
		if a.variant == "flush-under-lock" {
			// keep the window state until the part is durable, so a crash
			// between close and write cannot lose it
			a.out <- w
			<-a.written // FAULT(deadlock:flush-under-lock)
			a.mu.Unlock()
			continue
		}
		a.mu.Unlock()
		a.out <- w
		<-a.written
	}
}

func (a *aggregator) writeLoop() {
	for w := range a.out {
		a.mu.Lock()
		footer := map[string]int{"duplicates": a.dups, "late": a.late}
		a.mu.Unlock()
		a.writer.write(w, footer)
		a.written <- struct{}{}
	}
}
