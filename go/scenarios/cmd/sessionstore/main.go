// sessionstore keeps web sessions in memory, serialised the way they go to the
// replication log.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type session struct {
	ID      string            `json:"id"`
	User    string            `json:"user"`
	Updated time.Time         `json:"updated"`
	Cart    []string          `json:"cart"`
	Attrs   map[string]string `json:"attrs"`
}

type store struct {
	mu   sync.Mutex
	data map[string][]byte
	wal  bytes.Buffer
}

// save serialises a session and stores it.
func (s *store) save(sess *session) {
	s.mu.Lock() // FAULT(lock-contention)
	defer s.mu.Unlock()
	b, err := json.MarshalIndent(sess, "", "  ")
	if err != nil {
		return
	}
	s.data[sess.ID] = b
	s.wal.Write(b)
	s.syncWAL()
}

// syncWAL stands in for fsync of the write-ahead log that replicas tail.
func (s *store) syncWAL() {
	if s.wal.Len() > 1<<20 {
		s.wal.Reset()
	}
	time.Sleep(300 * time.Microsecond)
}

func (s *store) load(id string) (*session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.data[id]
	if !ok {
		return nil, false
	}
	var sess session
	if err := json.Unmarshal(b, &sess); err != nil {
		return nil, false
	}
	return &sess, true
}

func main() {
	runtime.SetMutexProfileFraction(10)
	st := &store{data: map[string][]byte{}}
	s := svc.Start("sessionstore")
	s.Handle("/cart/add", func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("sid")
		sess, ok := st.load(id)
		if !ok {
			sess = &session{ID: id, User: "user-" + id, Attrs: map[string]string{"locale": "en"}}
		}
		if len(sess.Cart) > 40 {
			sess.Cart = sess.Cart[:0]
		}
		sess.Cart = append(sess.Cart, r.URL.Query().Get("item"))
		sess.Updated = time.Now()
		st.save(sess)
		fmt.Fprintln(w, len(sess.Cart))
	})
	s.Workers(24, 0, func(w int) { s.Get(fmt.Sprintf("/cart/add?sid=s%d&item=sku-%d", w%300, w)) })
	s.Serve()
}
