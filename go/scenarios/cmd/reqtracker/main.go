// reqtracker is an order API that tracks in-flight requests in a registry so an
// admin endpoint can list what is running.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"godiag.scenarios/internal/svc"
)

type reqState struct {
	ID      uint64
	Started time.Time
	Path    string
	scratch []byte // response staging buffer
}

type registry struct {
	mu       sync.Mutex
	inflight map[uint64]*reqState
	next     atomic.Uint64
}

// track registers a request and gives it a staging buffer.
func (g *registry) track(path string) *reqState {
	st := &reqState{ID: g.next.Add(1), Started: time.Now(), Path: path}
	st.scratch = make([]byte, 0, 32<<10) // FAULT(memory-leak)
	g.mu.Lock()
	g.inflight[st.ID] = st
	g.mu.Unlock()
	return st
}

func (g *registry) untrack(st *reqState) {
	g.mu.Lock()
	delete(g.inflight, st.ID)
	g.mu.Unlock()
}

func main() {
	g := &registry{inflight: map[uint64]*reqState{}}
	s := svc.Start("reqtracker")
	s.Handle("/order", func(w http.ResponseWriter, r *http.Request) {
		st := g.track(r.URL.Path)
		qty := r.URL.Query().Get("qty")
		if qty == "0" {
			http.Error(w, "quantity must be positive", http.StatusBadRequest)
			return
		}
		st.scratch = fmt.Appendf(st.scratch, `{"order":%d,"qty":%s}`, st.ID, qty)
		w.Write(st.scratch)
		g.untrack(st)
	})
	s.Handle("/admin/inflight", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		n := len(g.inflight)
		g.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]int{"inflight": n})
	})
	s.Rate(200, func(i int) { s.Get(fmt.Sprintf("/order?qty=%d", i%3)) })
	s.Serve()
}
