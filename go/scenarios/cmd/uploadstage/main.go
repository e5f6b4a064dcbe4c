// uploadstage accepts file chunks, stages them for a later commit and schedules
// each staged chunk to expire if the client never commits.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"godiag.scenarios/internal/svc"
)

type stager struct {
	next    atomic.Int64
	mu      sync.Mutex
	staged  map[int64]int
	expired atomic.Int64
}

// stage copies a chunk out of the request and arms its expiry.
func (s *stager) stage(r io.Reader) (int64, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return 0, err
	}
	buf := make([]byte, len(data)) // FAULT(memory-leak)
	copy(buf, data)
	id := s.next.Add(1)
	s.mu.Lock()
	s.staged[id] = len(buf)
	s.mu.Unlock()
	time.AfterFunc(30*time.Minute, func() { s.expire(id, buf) })
	return id, nil
}

func (s *stager) expire(id int64, buf []byte) {
	s.mu.Lock()
	delete(s.staged, id)
	s.mu.Unlock()
	s.expired.Add(int64(len(buf)))
}

func (s *stager) commit(id int64) {
	s.mu.Lock()
	delete(s.staged, id)
	s.mu.Unlock()
}

func main() {
	st := &stager{staged: map[int64]int{}}
	s := svc.Start("uploadstage")
	s.Handle("/chunk", func(w http.ResponseWriter, r *http.Request) {
		id, err := st.stage(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d\n", id)
	})
	s.Handle("/commit", func(w http.ResponseWriter, r *http.Request) {
		var id int64
		fmt.Sscan(r.URL.Query().Get("id"), &id)
		st.commit(id)
		w.WriteHeader(http.StatusNoContent)
	})
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	s.Rate(120, func(i int) { s.Post("/chunk", "application/octet-stream", chunk) })
	s.Serve()
}
