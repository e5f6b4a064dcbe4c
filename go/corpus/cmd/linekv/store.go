package main

import (
	"path"
	"sync"
	"time"
)

type entry struct {
	val      string
	deadline time.Time // zero: no expiry
	slot     int       // index in store.order
}

// store is the keyspace: one map behind one lock, and the insertion order SCAN walks.
type store struct {
	mu    sync.RWMutex
	data  map[string]*entry
	order []string
}

func newStore() *store { return &store{data: map[string]*entry{}} }

func (s *store) get(k string, now time.Time) (string, bool) {
	s.mu.RLock()
	e := s.data[k]
	s.mu.RUnlock()
	if e == nil || (!e.deadline.IsZero() && now.After(e.deadline)) {
		return "", false
	}
	return e.val, true
}

func (s *store) set(k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.data[k]; e != nil {
		e.val, e.deadline = v, time.Time{}
		return
	}
	s.data[k] = &entry{val: v, slot: len(s.order)}
	s.order = append(s.order, k)
}

func (s *store) delLocked(k string) bool {
	e := s.data[k]
	if e == nil {
		return false
	}
	last := s.order[len(s.order)-1]
	s.order[e.slot] = last
	s.data[last].slot = e.slot
	s.order = s.order[:len(s.order)-1]
	delete(s.data, k)
	return true
}

func (s *store) del(k string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delLocked(k)
}

func (s *store) expire(k string, deadline time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.data[k]
	if e == nil {
		return false
	}
	e.deadline = deadline
	return true
}

// scan visits up to count slots from cursor under the read lock, calling visit for each
// live key matching pattern; it returns the next cursor (0 when the walk is done).
func (s *store) scanLocked(cursor, count int, pattern string, now time.Time, visit func(k, v string)) int {
	end := cursor + count
	if end >= len(s.order) {
		end = len(s.order)
	}
	for i := cursor; i < end; i++ {
		k := s.order[i]
		e := s.data[k]
		if !e.deadline.IsZero() && now.After(e.deadline) {
			continue
		}
		if ok, _ := path.Match(pattern, k); ok {
			visit(k, e.val)
		}
	}
	if end >= len(s.order) {
		return 0
	}
	return end
}

// sweep deletes expired keys, a bounded sample at a time like Redis's active expiry.
func (s *store) sweep(sample int, upgradeInPlace bool) int {
	now := time.Now()
	if upgradeInPlace {
		removed := 0
		s.mu.RLock()
		for i := 0; i < sample && i < len(s.order); i++ {
			k := s.order[(int(now.UnixNano())+i*7919)%len(s.order)]
			if e := s.data[k]; !e.deadline.IsZero() && now.After(e.deadline) {
				if s.del(k) { // FAULT(deadlock:rlock-upgrade)
					removed++
				}
			}
		}
		s.mu.RUnlock()
		return removed
	}
	var dead []string
	s.mu.RLock()
	for i := 0; i < sample && i < len(s.order); i++ {
		k := s.order[(int(now.UnixNano())+i*7919)%len(s.order)]
		if e := s.data[k]; !e.deadline.IsZero() && now.After(e.deadline) {
			dead = append(dead, k)
		}
	}
	s.mu.RUnlock()
	if len(dead) == 0 {
		return 0
	}
	s.mu.Lock()
	removed := 0
	for _, k := range dead {
		// it may have been refreshed since the read pass
		if e := s.data[k]; e != nil && !e.deadline.IsZero() && now.After(e.deadline) && s.delLocked(k) {
			removed++
		}
	}
	s.mu.Unlock()
	return removed
}
