// kvstore is a sharded in-memory key-value store with a bounded LRU per shard.
package main

import (
	"container/list"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"

	"godiag.scenarios/internal/svc"
)

type entry struct {
	key string
	val []byte
}

type shard struct {
	mu    sync.Mutex
	items map[string]*list.Element
	order *list.List
	limit int
}

func (s *shard) get(k string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.items[k]
	if !ok {
		return nil, false
	}
	s.order.MoveToFront(e)
	return e.Value.(*entry).val, true
}

func (s *shard) put(k string, v []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[k]; ok {
		e.Value.(*entry).val = v
		s.order.MoveToFront(e)
		return
	}
	s.items[k] = s.order.PushFront(&entry{k, v})
	if s.order.Len() > s.limit {
		old := s.order.Back()
		s.order.Remove(old)
		delete(s.items, old.Value.(*entry).key)
	}
}

type store struct{ shards [32]*shard }

func (st *store) shard(k string) *shard {
	h := fnv.New32a()
	h.Write([]byte(k))
	return st.shards[h.Sum32()%32]
}

func main() {
	runtime.SetMutexProfileFraction(100)
	st := &store{}
	for i := range st.shards {
		st.shards[i] = &shard{items: map[string]*list.Element{}, order: list.New(), limit: 200}
	}
	s := svc.Start("kvstore")
	s.Handle("/kv/", func(w http.ResponseWriter, r *http.Request) {
		k := strings.TrimPrefix(r.URL.Path, "/kv/")
		switch r.Method {
		case http.MethodPut, http.MethodPost:
			b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			st.shard(k).put(k, b)
			w.WriteHeader(http.StatusNoContent)
		default:
			v, ok := st.shard(k).get(k)
			if !ok {
				http.NotFound(w, r)
				return
			}
			w.Write(v)
		}
	})
	val := []byte(strings.Repeat("v", 512))
	s.Rate(400, func(i int) {
		k := fmt.Sprintf("/kv/key-%d", (i*31)%20000)
		if i%4 == 0 {
			s.Post(k, "application/octet-stream", val)
		} else {
			s.Get(k)
		}
	})
	s.Serve()
}
