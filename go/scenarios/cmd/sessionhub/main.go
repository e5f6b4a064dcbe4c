// sessionhub hands out chat sessions and keeps each one alive with a heartbeat.
package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"godiag.scenarios/internal/svc"
)

type session struct {
	ID       int64
	User     string
	lastBeat atomic.Int64
}

type hub struct {
	nextID atomic.Int64
	beats  atomic.Int64
}

// keepalive refreshes the session's heartbeat for as long as the session lives.
func (h *hub) keepalive(s *session) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for now := range t.C { // FAULT(goroutine-leak)
		s.lastBeat.Store(now.UnixNano())
		h.beats.Add(1)
	}
}

func (h *hub) open(w http.ResponseWriter, r *http.Request) {
	s := &session{ID: h.nextID.Add(1), User: r.URL.Query().Get("user")}
	s.lastBeat.Store(time.Now().UnixNano())
	go h.keepalive(s)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"session": s.ID, "user": s.User})
}

func main() {
	h := &hub{}
	s := svc.Start("sessionhub")
	s.Handle("/session", h.open)
	s.Handle("/stats", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "sessions=%d beats=%d\n", h.nextID.Load(), h.beats.Load())
	})
	s.Rate(40, func(i int) { s.Get(fmt.Sprintf("/session?user=u%d", i%500)) })
	s.Workers(1, time.Second, func(int) { s.Get("/stats") })
	s.Serve()
}
