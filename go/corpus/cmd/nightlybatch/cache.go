package main

import (
	"container/list"
	"fmt"
	"strings"
	"sync"
)

// merchantProfile is what the settlement needs to know about a merchant, loaded from the
// merchant directory on a miss.
type merchantProfile struct {
	id          int
	displayName string
	payoutIBAN  string
	tags        []string
	blob        []byte
}

// merchantCache is a bounded LRU of merchant profiles.
type merchantCache struct {
	mu    sync.Mutex
	cap   int
	order *list.List
	byID  map[int]*list.Element
}

func newMerchantCache(n int) *merchantCache {
	return &merchantCache{cap: n, order: list.New(), byID: make(map[int]*list.Element, n)}
}

func (c *merchantCache) get(id int) *merchantProfile {
	c.mu.Lock()
	if e, ok := c.byID[id]; ok {
		c.order.MoveToFront(e)
		p := e.Value.(*merchantProfile)
		c.mu.Unlock()
		return p
	}
	c.mu.Unlock()
	p := loadMerchant(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		return e.Value.(*merchantProfile)
	}
	c.byID[id] = c.order.PushFront(p)
	if c.order.Len() > c.cap {
		old := c.order.Remove(c.order.Back()).(*merchantProfile)
		delete(c.byID, old.id)
	}
	return p
}

func loadMerchant(id int) *merchantProfile {
	return &merchantProfile{
		id:          id,
		displayName: fmt.Sprintf("Merchant %05d", id),
		payoutIBAN:  fmt.Sprintf("DE%020d", id*7919),
		tags:        strings.Fields("retail eu card-present"),
		blob:        make([]byte, 1536),
	}
}
