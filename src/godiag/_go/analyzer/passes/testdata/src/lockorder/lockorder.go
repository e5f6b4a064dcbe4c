package lockorder

import (
	"sync"
	"sync/atomic"
)

type store struct {
	coalescedMu struct {
		sync.Mutex
		pending []int
	}
	replicas []*replica
}

type replica struct {
	raftMu sync.Mutex
	mu     sync.Mutex
	store  *store
}

// Positive: coalescedMu, then (two calls down) raftMu ...
func (s *store) sendHeartbeats() {
	s.coalescedMu.Lock()
	defer s.coalescedMu.Unlock()
	s.sendToNode() // want `r.raftMu is locked while s.coalescedMu is held \(line \d+, through sendToNode\), but line \d+ locks r.store.coalescedMu while r.raftMu is held \(line \d+, through tickLocked\)`
}

func (s *store) sendToNode() {
	for _, r := range s.replicas {
		r.reportUnreachable()
	}
}

func (r *replica) reportUnreachable() {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
}

// ... and raftMu, then (through mu) coalescedMu.
func (r *replica) tick() {
	r.raftMu.Lock()
	defer r.raftMu.Unlock()
	r.tickLocked()
}

func (r *replica) tickLocked() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.store.coalescedMu.Lock()
	r.store.coalescedMu.Unlock()
}

// Positive: embedded mutexes, direct nesting both ways.
type devices struct {
	sync.Mutex
	infos map[string]*info
}

type info struct {
	lock sync.Mutex
}

func (d *devices) remove(name string) {
	d.Lock()
	defer d.Unlock()
	i := d.infos[name]
	i.lock.Lock() // want `i.lock is locked while d is held`
	i.lock.Unlock()
}

func (d *devices) activate(i *info) {
	i.lock.Lock()
	defer i.lock.Unlock()
	d.Lock()
	d.Unlock()
}

// Negative: one order everywhere.
type pair struct {
	a, b sync.Mutex
}

func (p *pair) one() {
	p.a.Lock()
	p.b.Lock()
	p.b.Unlock()
	p.a.Unlock()
}

func (p *pair) two() {
	p.a.Lock()
	defer p.a.Unlock()
	p.lockB()
}

func (p *pair) lockB() {
	p.b.Lock()
	p.b.Unlock()
}

// Negative: b is released before a is taken.
func (p *pair) three() {
	p.b.Lock()
	p.b.Unlock()
	p.a.Lock()
	p.a.Unlock()
}

// Negative: taken in a goroutine started under the lock, not while holding it.
type pair2 struct {
	a, b sync.Mutex
}

func (p *pair2) one() {
	p.a.Lock()
	defer p.a.Unlock()
	p.b.Lock()
	p.b.Unlock()
}

func (p *pair2) two() {
	p.b.Lock()
	defer p.b.Unlock()
	go func() {
		p.a.Lock()
		p.a.Unlock()
	}()
}

// Negative: parent and child of one type (same field) are not an order.
type node struct {
	mu       sync.Mutex
	children []*node
}

func (n *node) walk() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.children {
		c.walk()
	}
}

// Negative: the bucket drops its reference to an evicted trace; the trace's
// lock is taken only when the last reference goes (nobody else can hold it).
type trace struct {
	mu   sync.RWMutex
	refs int32
}

type bucket struct {
	mu  sync.Mutex
	buf []*trace
}

func (t *trace) finish(b *bucket) {
	t.mu.RLock()
	b.add(t)
	t.mu.RUnlock()
}

func (b *bucket) add(t *trace) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf[0].unref()
	b.buf[0] = t
}

func (t *trace) unref() {
	if atomic.AddInt32(&t.refs, -1) == 0 {
		t.mu.Lock()
		t.refs = 0
		t.mu.Unlock()
	}
}

// Negative: read-locked on both sides and never write-locked: readers do not
// exclude each other.
type index struct {
	mu   sync.RWMutex
	data map[string]int
}

type catalog struct {
	mu  sync.Mutex
	idx *index
}

func (x *index) get(c *catalog) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	c.touch()
	return x.data["a"]
}

func (c *catalog) touch() {
	c.mu.Lock()
	c.mu.Unlock()
}

func (c *catalog) lookup() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idx.mu.RLock()
	defer c.idx.mu.RUnlock()
	return len(c.idx.data)
}

// Positive: the same shape, but the index is also write-locked: a queued
// writer blocks the second reader, and the three goroutines deadlock.
type index2 struct {
	mu   sync.RWMutex
	data map[string]int
}

type catalog2 struct {
	mu  sync.Mutex
	idx *index2
}

func (x *index2) get(c *catalog2) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	c.touch() // want `c.mu is locked while x.mu is held`
	return x.data["a"]
}

func (x *index2) put(k string) {
	x.mu.Lock()
	x.data[k] = 1
	x.mu.Unlock()
}

func (c *catalog2) touch() {
	c.mu.Lock()
	c.mu.Unlock()
}

func (c *catalog2) lookup() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.idx.mu.RLock()
	defer c.idx.mu.RUnlock()
	return len(c.idx.data)
}

// Negative: the callee is called with sub.mu held and releases it before
// taking subsMu (written that way to avoid the inversion).
type conn struct {
	subsMu sync.Mutex
	subs   map[int]*sub
}

type sub struct {
	mu   sync.Mutex
	conn *conn
	sid  int
}

func (s *sub) reset() {
	s.mu.Lock()
	s.applyNewSID()
	s.mu.Unlock()
}

func (s *sub) applyNewSID() {
	c := s.conn
	s.mu.Unlock()
	c.subsMu.Lock()
	c.subs[s.sid] = s
	c.subsMu.Unlock()
	s.mu.Lock()
}

func (c *conn) close() {
	c.subsMu.Lock()
	defer c.subsMu.Unlock()
	for _, s := range c.subs {
		s.mu.Lock()
		s.sid = 0
		s.mu.Unlock()
	}
}
