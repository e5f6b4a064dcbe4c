package svc

import (
	"errors"
	"sync"
)

var errClosed = errors.New("closed")

// Registry has one planted fault per lock and channel analyzer.
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

// Add returns early with the lock still held.
func (r *Registry) Add(k string) error {
	r.mu.Lock()
	if r.closed {
		return errClosed // PLANTED: lock-not-released
	}
	r.entries[k]++
	r.mu.Unlock()
	return nil
}

// Close locks again instead of unlocking on its early path.
func (r *Registry) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Lock() // PLANTED: double-lock
		return
	}
	r.closed = true
	r.mu.Unlock()
}

// Record takes the registry's lock, then the journal's ...
func (r *Registry) Record(k string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.journal.append(k) // PLANTED: lock-order-inversion
}

func (j *Journal) append(k string) {
	j.mu.Lock()
	j.lines = append(j.lines, k)
	j.mu.Unlock()
}

// ... and Flush the journal's, then the registry's.
func (j *Journal) Flush() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.reg.mu.Lock()
	j.lines = nil
	j.reg.mu.Unlock()
}

// Ack reports a result nobody ever reads.
func (r *Registry) Ack(ok bool) {
	r.acks <- ok // PLANTED: send-never-received
}

// WaitReady waits for a signal nobody ever gives.
func (r *Registry) WaitReady() {
	<-r.ready // PLANTED: receive-never-sent
}

// Pool waits for an activation nobody announces.
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
		p.wake.Wait() // PLANTED: cond-never-signalled
	}
	p.mu.Unlock()
}
