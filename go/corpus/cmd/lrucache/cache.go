package main

import (
	"container/list"
	"hash/fnv"
	"sort"
	"sync"
	"time"
)

// item is one cached object. hits feeds the hot-key ranking.
type item struct {
	key     string
	val     []byte
	expires time.Time
	hits    uint32
}

// shard is one LRU: a list in recency order plus an index, bounded by bytes.
type shard struct {
	mu       sync.Mutex
	order    *list.List // front = most recently used
	index    map[string]*list.Element
	bytes    int
	maxBytes int
}

type cache struct {
	shards []*shard
	ttl    time.Duration
}

func newCache(nShards, maxBytes int, ttl time.Duration) *cache {
	c := &cache{ttl: ttl}
	for i := 0; i < nShards; i++ {
		c.shards = append(c.shards, &shard{order: list.New(), index: map[string]*list.Element{},
			maxBytes: maxBytes / nShards})
	}
	return c
}

func (c *cache) shardOf(key string) *shard {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return c.shards[h.Sum32()%uint32(len(c.shards))]
}

func (c *cache) get(key string, now time.Time) ([]byte, bool) {
	s := c.shardOf(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.index[key]
	if !ok {
		return nil, false
	}
	it := el.Value.(*item)
	if now.After(it.expires) {
		s.unlink(el)
		return nil, false
	}
	it.hits++
	s.order.MoveToFront(el)
	return it.val, true
}

func (c *cache) put(key string, val []byte, now time.Time) {
	s := c.shardOf(key)
	s.mu.Lock()
	s.insert(key, val, now.Add(c.ttl))
	s.mu.Unlock()
}

func (c *cache) purge(key string) {
	s := c.shardOf(key)
	s.mu.Lock()
	if el, ok := s.index[key]; ok {
		s.unlink(el)
	}
	s.mu.Unlock()
}

func (c *cache) size() (n, bytes int) {
	for _, s := range c.shards {
		s.mu.Lock()
		n += len(s.index)
		bytes += s.bytes
		s.mu.Unlock()
	}
	return n, bytes
}

func (s *shard) insert(key string, val []byte, expires time.Time) {
	if el, ok := s.index[key]; ok {
		it := el.Value.(*item)
		s.bytes += len(val) - len(it.val)
		it.val, it.expires = val, expires
		s.order.MoveToFront(el)
	} else {
		s.index[key] = s.order.PushFront(&item{key: key, val: val, expires: expires})
		s.bytes += len(val) + len(key)
	}
	for s.bytes > s.maxBytes && s.order.Len() > 1 {
		s.unlink(s.order.Back())
	}
}

func (s *shard) unlink(el *list.Element) {
	it := el.Value.(*item)
	s.order.Remove(el)
	delete(s.index, it.key)
	s.bytes -= len(it.val) + len(it.key)
}

// rankHot recomputes the cache's ten most-hit keys for the stats page.
func (c *cache) rankHot() []string {
	type ranked struct {
		key  string
		hits uint32
	}
	var all []ranked
	for _, s := range c.shards {
		s.mu.Lock()
		for el := s.order.Front(); el != nil; el = el.Next() {
			it := el.Value.(*item)
			all = append(all, ranked{it.key, it.hits})
		}
		s.mu.Unlock()
	}
	sort.Slice(all, func(i, j int) bool { return all[i].hits > all[j].hits })
	hot := make([]string, 0, 10)
	for i := 0; i < len(all) && i < 10; i++ {
		hot = append(hot, all[i].key)
	}
	return hot
}

// hotAgain is how many hits make an expired item worth loading again before anyone asks.
const hotAgain = 3

// expired unlinks the shard's expired items and returns the hot ones' keys. The caller
// hands them on (refresh-ahead) after the lock is released.
func (s *shard) expired(now time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for el := s.order.Back(); el != nil; {
		prev := el.Prev()
		if it := el.Value.(*item); now.After(it.expires) {
			if it.hits >= hotAgain {
				keys = append(keys, it.key)
			}
			s.unlink(el)
		}
		el = prev
	}
	return keys
}

// expireNotify is the older sweep: it tells the refresher about each key as it goes.
func (s *shard) expireNotify(now time.Time, refresh chan<- string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.order.Back(); el != nil; {
		prev := el.Prev()
		if it := el.Value.(*item); now.After(it.expires) {
			s.unlink(el)
			if it.hits >= hotAgain {
				refresh <- it.key // FAULT(deadlock:sweep-notify)
			}
		}
		el = prev
	}
}
