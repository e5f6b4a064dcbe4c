package svc

import (
	"errors"
	"sync"
)

var errClosed = errors.New("closed")

// Registry is the healthy twin of the planted one: same shapes, no faults.
type Registry struct {
	mu      sync.Mutex
	closed  bool
	entries map[string]int
	acks    chan bool
	ready   chan struct{}
	journal *Journal
}

type Journal struct {
	mu    sync.Mutex
	lines []string
	reg   *Registry
}

func NewRegistry() *Registry {
	r := &Registry{entries: map[string]int{}, acks: make(chan bool), ready: make(chan struct{})}
	r.journal = &Journal{reg: r}
	return r
}

func (r *Registry) Add(k string) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return errClosed
	}
	r.entries[k]++
	r.mu.Unlock()
	return nil
}

func (r *Registry) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	close(r.ready)
}

// Both paths take the registry's lock first, then the journal's.
func (r *Registry) Record(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.journal.append(k)
}

func (j *Journal) append(k string) {
	j.mu.Lock()
	j.lines = append(j.lines, k)
	j.mu.Unlock()
}

func (j *Journal) Flush() {
	j.reg.mu.Lock()
	defer j.reg.mu.Unlock()
	j.mu.Lock()
	j.lines = nil
	j.mu.Unlock()
}

func (r *Registry) Ack(ok bool) { r.acks <- ok }

// Acks is where the results are read.
func (r *Registry) Acks() <-chan bool { return r.acks }

func (r *Registry) WaitReady() { <-r.ready }

type Pool struct {
	mu     sync.Mutex
	wake   *sync.Cond
	active bool
}

func NewPool() *Pool {
	p := &Pool{}
	p.wake = sync.NewCond(&p.mu)
	return p
}

func (p *Pool) WaitActive() {
	p.mu.Lock()
	for !p.active {
		p.wake.Wait()
	}
	p.mu.Unlock()
}

func (p *Pool) Activate() {
	p.mu.Lock()
	p.active = true
	p.mu.Unlock()
	p.wake.Broadcast()
}
