// pubsub is a long-polling message hub: subscribers wait for the next message
// on a topic, publishers broadcast to whoever is waiting.
package main

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type hub struct {
	mu      sync.Mutex
	waiters map[string]map[chan string]struct{}
}

func (h *hub) subscribe(topic string) chan string {
	c := make(chan string, 1)
	h.mu.Lock()
	if h.waiters[topic] == nil {
		h.waiters[topic] = map[chan string]struct{}{}
	}
	h.waiters[topic][c] = struct{}{}
	h.mu.Unlock()
	return c
}

func (h *hub) unsubscribe(topic string, c chan string) {
	h.mu.Lock()
	delete(h.waiters[topic], c)
	if len(h.waiters[topic]) == 0 {
		delete(h.waiters, topic)
	}
	h.mu.Unlock()
}

func (h *hub) publish(topic, msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for c := range h.waiters[topic] {
		select {
		case c <- msg:
			n++
		default: // the subscriber already has a message pending
		}
	}
	return n
}

func main() {
	h := &hub{waiters: map[string]map[chan string]struct{}{}}
	s := svc.Start("pubsub")
	s.Handle("/poll", func(w http.ResponseWriter, r *http.Request) {
		topic := r.URL.Query().Get("topic")
		c := h.subscribe(topic)
		defer h.unsubscribe(topic, c)
		select {
		case m := <-c:
			fmt.Fprintln(w, m)
		case <-time.After(300 * time.Millisecond):
			w.WriteHeader(http.StatusNoContent)
		case <-r.Context().Done():
		}
	})
	s.Handle("/publish", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, h.publish(r.URL.Query().Get("topic"), r.URL.Query().Get("msg")))
	})
	s.Workers(20, 0, func(w int) { s.Get(fmt.Sprintf("/poll?topic=t%d", w%5)) })
	s.Rate(50, func(i int) { s.Get(fmt.Sprintf("/publish?topic=t%d&msg=m%d", i%5, i)) })
	s.Serve()
}
