package doublelock

import "sync"

type server struct {
	mu    sync.Mutex
	rw    sync.RWMutex
	drain bool
}

// Positive: the early-return branch locks again instead of unlocking.
func (s *server) GracefulStop() {
	s.mu.Lock()
	if s.drain {
		s.mu.Lock() // want `s.mu is locked again while this function already holds it \(Lock at line`
		return
	}
	s.drain = true
	s.mu.Unlock()
}

// Positive: RLock under Lock of the same RWMutex.
func (s *server) read() bool {
	s.rw.Lock()
	v := s.drain
	s.rw.RLock() // want `s.rw is locked again`
	s.rw.RUnlock()
	s.rw.Unlock()
	return v
}

// Positive: a plain mutex variable.
func local() {
	var mu sync.Mutex
	mu.Lock()
	mu.Lock() // want `mu is locked again`
}

// Negative: unlock between.
func (s *server) ok1() {
	s.mu.Lock()
	s.drain = false
	s.mu.Unlock()
	s.mu.Lock()
	s.drain = true
	s.mu.Unlock()
}

// Negative: two different mutexes.
func (s *server) ok2(o *server) {
	s.mu.Lock()
	o.mu.Lock()
	o.mu.Unlock()
	s.mu.Unlock()
}

// Negative: lock in both branches, each released.
func (s *server) ok3(b bool) {
	if b {
		s.mu.Lock()
		s.drain = true
		s.mu.Unlock()
	} else {
		s.mu.Lock()
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.mu.Unlock()
}

// Negative: read lock twice (only a deadlock when a writer queues in between: not reported).
func (s *server) ok4() {
	s.rw.RLock()
	s.rw.RLock()
	s.rw.RUnlock()
	s.rw.RUnlock()
}

// Negative: each loop iteration unlocks before the next lock.
func (s *server) ok5(n int) {
	for i := 0; i < n; i++ {
		s.mu.Lock()
		s.mu.Unlock()
	}
}
