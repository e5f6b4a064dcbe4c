// eventhistory receives webhook events from a payment provider, applies them
// and keeps a history for the debug page.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type event struct {
	At      time.Time
	Kind    string
	Payload []byte
}

type recorder struct {
	mu       sync.Mutex
	history  []event
	balances map[string]int
}

// observe applies an event and remembers it.
func (r *recorder) observe(kind, account string, amount int, body []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.balances[account] += amount
	payload := bytes.Clone(body) // FAULT(memory-leak)
	r.history = append(r.history, event{At: time.Now(), Kind: kind, Payload: payload})
}

func main() {
	rec := &recorder{balances: map[string]int{}}
	s := svc.Start("eventhistory")
	s.Handle("/webhook", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var ev struct {
			Kind    string `json:"kind"`
			Account string `json:"account"`
			Amount  int    `json:"amount"`
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rec.observe(ev.Kind, ev.Account, ev.Amount, body)
		w.WriteHeader(http.StatusNoContent)
	})
	s.Handle("/debug/history", func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		fmt.Fprintf(w, "%d events\n", len(rec.history))
	})
	note := bytes.Repeat([]byte("x"), 12000)
	s.Rate(200, func(i int) {
		b, _ := json.Marshal(map[string]any{"kind": "charge.succeeded", "account": fmt.Sprintf("acct_%d", i%50), "amount": i % 300, "metadata": string(note)})
		s.Post("/webhook", "application/json", b)
	})
	s.Serve()
}
