package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// ttlCache holds account reads; an entry is refreshed when it is read after expiry.
type ttlCache struct {
	mu sync.RWMutex
	m  map[string]cached
}

type cached struct {
	a   *Account
	exp time.Time
}

func newTTLCache() *ttlCache { return &ttlCache{m: map[string]cached{}} }

func (c *ttlCache) get(key string) (*Account, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[key]
	if !ok || time.Now().After(e.exp) {
		return nil, false
	}
	return e.a, true
}

func (c *ttlCache) put(key string, a *Account, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = cached{a, time.Now().Add(ttl)}
}

// flightGroup collapses concurrent reads of one key into one upstream call.
type flightGroup struct {
	mu       sync.Mutex
	calls    map[string]*flight
	holdLock bool
}

type flight struct {
	done chan struct{}
	val  *Account
	err  error
}

func (fg *flightGroup) do(key string, fn func() (*Account, error)) (*Account, error) {
	fg.mu.Lock()
	if f, ok := fg.calls[key]; ok {
		fg.mu.Unlock()
		<-f.done
		return f.val, f.err
	}
	f := &flight{done: make(chan struct{})}
	fg.calls[key] = f
	if fg.holdLock {
		f.val, f.err = fn() // FAULT(lock-contention:coalesce-under-lock)
	} else {
		fg.mu.Unlock()
		f.val, f.err = fn()
		fg.mu.Lock()
	}
	delete(fg.calls, key)
	fg.mu.Unlock()
	close(f.done)
	return f.val, f.err
}

var errOpen = errors.New("circuit open")

// breaker stops calling an upstream that keeps timing out, and lets one probe through
// after a cooldown. Answers with an HTTP status do not count: the upstream is alive.
type breaker struct {
	mu          sync.Mutex
	threshold   int
	cooldown    time.Duration
	probeLocked bool
	fails       int
	open        bool
	probing     bool
	openedAt    time.Time
}

func (b *breaker) do(fn func() error) error {
	b.mu.Lock()
	if b.open {
		if b.probing || time.Since(b.openedAt) < b.cooldown {
			b.mu.Unlock()
			return errOpen
		}
		b.probing = true
		res := make(chan error, 1)
		go func() {
			err := fn()
			b.record(err)
			res <- err
		}()
		if b.probeLocked {
			err := <-res // FAULT(deadlock:breaker-probe)
			b.mu.Unlock()
			return err
		}
		b.mu.Unlock()
		return <-res
	}
	b.mu.Unlock()
	err := fn()
	b.record(err)
	return err
}

func (b *breaker) record(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	var se *statusError
	if err == nil || errors.As(err, &se) {
		b.fails, b.open = 0, false
		return
	}
	b.fails++
	if b.fails >= b.threshold {
		b.open, b.openedAt = true, time.Now()
	}
}

// sloWatch counts requests that outlive the latency objective; each request gets a
// watcher that waits for the request's end.
type sloWatch struct {
	slo    time.Duration
	mu     sync.Mutex
	seq    uint64
	live   map[uint64]context.CancelFunc
	cancel bool
	slow   atomic.Int64
	worst  atomic.Int64
}

func (s *sloWatch) begin(route string) uint64 {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.seq++
	id := s.seq
	s.live[id] = cancel
	s.mu.Unlock()
	go s.wait(ctx, time.Now())
	return id
}

func (s *sloWatch) wait(ctx context.Context, start time.Time) {
	t := time.NewTimer(s.slo)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
		s.slow.Add(1)
	}
	<-ctx.Done()
	if d := int64(time.Since(start)); d > s.worst.Load() {
		s.worst.Store(d)
	}
}

func (s *sloWatch) end(id uint64) {
	s.mu.Lock()
	cancel := s.live[id]
	delete(s.live, id) // FAULT(goroutine-leak:slo-watch)
	s.mu.Unlock()
	if s.cancel {
		cancel()
	}
}
