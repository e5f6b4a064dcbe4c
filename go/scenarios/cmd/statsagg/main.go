// statsagg ingests metric samples from agents and aggregates them per series;
// a flusher snapshots the aggregates for the storage backend.
package main

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type aggregator struct {
	mu      sync.Mutex
	counts  map[string]int64
	sums    map[string]float64
	flushed int
}

// add records one sample; the flush of a full window happens inline.
func (a *aggregator) add(series string, v float64) {
	a.mu.Lock() // FAULT(lock-contention)
	defer a.mu.Unlock()
	a.counts[series]++
	a.sums[series] += v
	if a.counts[series]%500 == 0 {
		a.flushLocked()
	}
}

// flushLocked formats every series for the backend (caller holds a.mu).
func (a *aggregator) flushLocked() {
	keys := make([]string, 0, len(a.counts))
	for k := range a.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s count=%d sum=%.3f\n", k, a.counts[k], a.sums[k])
	}
	time.Sleep(time.Millisecond) // write to the backend socket
	a.flushed++
}

func main() {
	agg := &aggregator{counts: map[string]int64{}, sums: map[string]float64{}}
	s := svc.Start("statsagg")
	s.Handle("/ingest", func(w http.ResponseWriter, r *http.Request) {
		host := r.URL.Query().Get("host")
		for i := 0; i < 50; i++ {
			agg.add(fmt.Sprintf("cpu.%s.core%d", host, i%8), float64(i))
		}
		w.WriteHeader(http.StatusAccepted)
	})
	s.Workers(16, 0, func(w int) { s.Get(fmt.Sprintf("/ingest?host=h%d", w%64)) })
	s.Serve()
}
