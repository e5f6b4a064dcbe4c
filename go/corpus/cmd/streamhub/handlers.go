package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

func (h *hub) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /events", h.serveStream)
	mux.HandleFunc("GET /poll/{topic}", h.servePoll)
	mux.HandleFunc("POST /publish/{topic}", h.servePublish)
}

var heartbeat = []byte(": keep-alive\n\n")

// serveStream is a server-sent event stream over the topics in ?topics= (globs).
func (h *hub) serveStream(w http.ResponseWriter, r *http.Request) {
	patterns := strings.Split(r.URL.Query().Get("topics"), ",")
	if len(patterns) == 0 || patterns[0] == "" {
		http.Error(w, "no topics", http.StatusBadRequest)
		return
	}
	if _, ok := w.(http.Flusher); !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()

	s := h.subscribe(patterns, w)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	if h.m.directWrite {
		for {
			select {
			case <-tick.C:
				h.mu.Lock()
				_, _ = w.Write(heartbeat)
				s.fl.Flush()
				h.mu.Unlock()
			case <-r.Context().Done():
				h.unsubscribe(s)
				return
			}
		}
	}
	fl := w.(http.Flusher)
	for {
		select {
		case frame := <-s.out:
			if _, err := w.Write(frame); err != nil {
				h.unsubscribe(s)
				return
			}
			fl.Flush()
		case <-tick.C:
			if _, err := w.Write(heartbeat); err != nil {
				h.unsubscribe(s)
				return
			}
			fl.Flush()
		case <-r.Context().Done():
			if h.m.releaseOnClose {
				h.unsubscribe(s)
			}
			return // FAULT(goroutine-leak:orphan-subscription)
		}
	}
}

// servePoll answers with the topic's events after ?after=, waiting up to 25 s for one.
func (h *hub) servePoll(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	t := h.topic(r.PathValue("topic"))
	deadline := time.NewTimer(25 * time.Second)
	defer deadline.Stop()
	for {
		evs, wake := t.since(after)
		if len(evs) > 0 {
			type item struct {
				ID   uint64          `json:"id"`
				Kind string          `json:"kind"`
				Data json.RawMessage `json:"data"`
			}
			out := make([]item, 0, min(len(evs), 50))
			for _, ev := range evs[:min(len(evs), 50)] {
				out = append(out, item{ev.ID, ev.Kind, ev.Data})
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(out)
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (h *hub) servePublish(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || !json.Valid(body) {
		http.Error(w, "event data must be JSON", http.StatusBadRequest)
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = "update"
	}
	id := h.publish(r.PathValue("topic"), kind, body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":` + strconv.FormatUint(id, 10) + "}\n"))
}
