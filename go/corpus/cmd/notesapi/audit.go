package main

import (
	"sync"
	"time"
)

type auditEntry struct {
	id       string
	method   string
	path     string
	at       time.Time
	took     time.Duration
	status   int
	request  []byte
	response []byte
}

// auditTrail keeps the most recent requests for support lookups by request id.
type auditTrail struct {
	mu   sync.Mutex
	ring []*auditEntry
	next int
	byID map[string]*auditEntry
}

func newAuditTrail(n int) *auditTrail {
	return &auditTrail{ring: make([]*auditEntry, n), byID: map[string]*auditEntry{}}
}

func (t *auditTrail) record(e *auditEntry, keepIndex bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if old := t.ring[t.next]; old != nil && !keepIndex {
		delete(t.byID, old.id)
	}
	t.ring[t.next] = e
	t.next = (t.next + 1) % len(t.ring)
	t.byID[e.id] = e // FAULT(memory-leak:request-audit)
	accessLog.record(e)
}

func (t *auditTrail) lookup(id string) *auditEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byID[id]
}

// pageCache is a small LRU of rendered list pages.
type pageCache struct {
	mu    sync.Mutex
	max   int
	items map[string]*cacheItem
	head  *cacheItem // most recent
	tail  *cacheItem
}

type cacheItem struct {
	key        string
	val        []byte
	prev, next *cacheItem
}

func newPageCache(max int) *pageCache {
	return &pageCache{max: max, items: map[string]*cacheItem{}}
}

func (c *pageCache) unlink(it *cacheItem) {
	if it.prev != nil {
		it.prev.next = it.next
	} else {
		c.head = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	} else {
		c.tail = it.prev
	}
	it.prev, it.next = nil, nil
}

func (c *pageCache) pushFront(it *cacheItem) {
	it.next = c.head
	if c.head != nil {
		c.head.prev = it
	}
	c.head = it
	if c.tail == nil {
		c.tail = it
	}
}

func (c *pageCache) get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.unlink(it)
	c.pushFront(it)
	return it.val, true
}

func (c *pageCache) put(key string, val []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it, ok := c.items[key]; ok {
		it.val = val
		c.unlink(it)
		c.pushFront(it)
		return
	}
	it := &cacheItem{key: key, val: append([]byte(nil), val...)}
	c.items[key] = it
	c.pushFront(it)
	for len(c.items) > c.max {
		old := c.tail
		c.unlink(old)
		delete(c.items, old.key)
	}
}
