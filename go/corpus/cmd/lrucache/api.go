package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// api is the cache's HTTP face: GET and PUT of objects, and a stats page.
type api struct {
	c       *cache
	ld      *loader
	budget  time.Duration // how long a miss may wait for the origin
	slots   chan struct{} // requests in flight; past that the cache sheds load
	hits    atomic.Int64
	misses  atomic.Int64
	shed    atomic.Int64
	replays *replayLog

	// how this deployment is configured
	exclusiveLoads bool
	rankEveryHit   bool
	hexWire        bool
	journalAll     bool

	journalMu sync.Mutex
	journal   map[string][]byte // request id -> body, for the write audit

	hotMu sync.Mutex
	hot   []string
}

func (a *api) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/objects/{key}", a.limit(a.get))
	mux.HandleFunc("PUT /v1/objects/{key}", a.limit(a.put))
	mux.HandleFunc("GET /v1/stats", a.stats)
}

func (a *api) limit(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case a.slots <- struct{}{}:
			defer func() { <-a.slots }()
			h(w, r)
		default:
			a.shed.Add(1)
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}
	}
}

func (a *api) get(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	val, ok := a.c.get(key, time.Now())
	if ok {
		a.hits.Add(1)
		if a.rankEveryHit {
			hot := a.c.rankHot() // FAULT(cpu-saturation:hot-rank)
			a.hotMu.Lock()
			a.hot = hot
			a.hotMu.Unlock()
		}
	} else {
		a.misses.Add(1)
		ctx, cancel := context.WithTimeout(r.Context(), a.budget)
		var err error
		if a.exclusiveLoads {
			val, err = a.ld.loadExclusive(ctx, key)
		} else {
			val, err = a.ld.load(ctx, key)
		}
		cancel()
		switch {
		case errors.Is(err, errMissing):
			http.NotFound(w, r)
			return
		case errors.Is(err, context.DeadlineExceeded):
			http.Error(w, "origin too slow", http.StatusGatewayTimeout)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
	}
	if a.hexWire {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, hexLines(val))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(val)
}

// hexLines is the text wire format older clients ask for: 32 bytes a line, in hex.
func hexLines(val []byte) string {
	out := ""
	for i := 0; i < len(val); i += 32 {
		out += fmt.Sprintf("%x\n", val[i:min(i+32, len(val))]) // FAULT(gc-pressure:hex-wire)
	}
	return out
}

func (a *api) put(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	idem := r.Header.Get("Idempotency-Key")
	if idem != "" && a.replays.seen(idem) {
		w.WriteHeader(http.StatusNoContent) // a retry of a write already applied
		return
	}
	a.c.put(key, body, time.Now())
	if idem != "" {
		a.replays.add(idem)
	}
	if a.journalAll {
		a.journalMu.Lock()
		a.journal[r.Header.Get("X-Request-Id")] = body // FAULT(memory-leak:write-journal)
		a.journalMu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) stats(w http.ResponseWriter, r *http.Request) {
	n, bytes := a.c.size()
	hot := a.c.rankHot()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"objects": n, "bytes": bytes, "hits": a.hits.Load(), "misses": a.misses.Load(),
		"shed": a.shed.Load(), "hot": hot,
	})
}

// replayLog remembers the last idempotency keys seen, in a ring: a retry arrives within
// seconds of the original or not at all.
type replayLog struct {
	mu   sync.Mutex
	ring []string
	next int
	set  map[string]struct{}
}

func newReplayLog(n int) *replayLog {
	return &replayLog{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

func (l *replayLog) seen(k string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.set[k]
	return ok
}

func (l *replayLog) add(k string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.ring[l.next]; old != "" {
		delete(l.set, old)
	}
	l.ring[l.next] = k
	l.set[k] = struct{}{}
	l.next = (l.next + 1) % len(l.ring)
}
