// auditlog accepts account changes and records each one in an audit trail that
// a background writer appends to a rotating sink.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type event struct {
	At      time.Time `json:"at"`
	Account string    `json:"account"`
	Action  string    `json:"action"`
}

// sink is a size-limited segment; rotating it fails once the disk "fills up".
type sink struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	rotation int
}

func (s *sink) write(ev event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buf.Len() > 2<<10 {
		s.rotation++
		if s.rotation > 1 {
			return errors.New("rotate audit segment: no space left on device")
		}
		s.buf.Reset()
	}
	return json.NewEncoder(&s.buf).Encode(ev)
}

type auditor struct {
	queue chan event
	out   *sink
}

func (a *auditor) run() {
	for ev := range a.queue {
		if err := a.out.write(ev); err != nil {
			log.Printf("audit writer stopped: %v", err)
			return
		}
	}
}

// record hands the event to the writer without making the request wait.
func (a *auditor) record(ev event) {
	go func() {
		a.queue <- ev // FAULT(goroutine-leak)
	}()
}

func main() {
	a := &auditor{queue: make(chan event, 64), out: &sink{}}
	go a.run()
	s := svc.Start("auditlog")
	s.Handle("/account", func(w http.ResponseWriter, r *http.Request) {
		acct := r.URL.Query().Get("id")
		a.record(event{At: time.Now(), Account: acct, Action: r.Method})
		fmt.Fprintf(w, "updated %s\n", acct)
	})
	s.Rate(100, func(i int) { s.Post(fmt.Sprintf("/account?id=%d", i%1000), "text/plain", nil) })
	s.Serve()
}
