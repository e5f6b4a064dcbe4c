package main

import (
	"context"
	"sync"
	"time"
)

type result struct {
	val []byte
	err error
}

// flight is one origin load in progress; everyone asking for the key meanwhile waits on it.
type flight struct {
	waiters []chan result
}

// loader coalesces concurrent misses for a key into one origin load and stores the
// result in the cache.
type loader struct {
	mu       sync.Mutex
	inflight map[string]*flight
	fetch    func(key string) ([]byte, error)
	c        *cache
	// replyBuf is the capacity of each waiter's reply channel
	replyBuf int
}

func (l *loader) load(ctx context.Context, key string) ([]byte, error) {
	reply := make(chan result, l.replyBuf)
	l.mu.Lock()
	f, ok := l.inflight[key]
	if !ok {
		f = &flight{}
		l.inflight[key] = f
		go l.lead(key, f)
	}
	f.waiters = append(f.waiters, reply)
	l.mu.Unlock()
	select {
	case r := <-reply:
		return r.val, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lead runs the origin load for a flight and hands the result to its waiters.
func (l *loader) lead(key string, f *flight) {
	val, err := l.fetch(key)
	if err == nil {
		l.c.put(key, val, time.Now())
	}
	l.mu.Lock()
	delete(l.inflight, key)
	waiters := f.waiters
	l.mu.Unlock()
	for _, w := range waiters {
		w <- result{val, err} // FAULT(goroutine-leak:lost-waiter)
	}
}

// loadExclusive is the simpler loader some deployments run: one load at a time, so a
// key is never fetched twice.
func (l *loader) loadExclusive(ctx context.Context, key string) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.c.get(key, time.Now()); ok {
		return v, nil // filled while this caller waited
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	val, err := l.fetch(key) // FAULT(lock-contention:fetch-under-lock)
	if err == nil {
		l.c.put(key, val, time.Now())
	}
	return val, err
}
