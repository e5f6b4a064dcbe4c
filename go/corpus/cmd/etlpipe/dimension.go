package main

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// site is a row of the site dimension.
type site struct {
	region  string
	owner   string
	tz      string
	loaded  time.Time
	contact []byte
}

var regions = []string{"eu-north", "eu-west", "eu-central", "us-east", "us-west", "ap-south", "ap-east", "sa-east"}

// dimension is the site table the enrich stage joins against. Rows go stale after a
// while and are refreshed from the dimension store.
type dimension struct {
	mu         sync.RWMutex
	lockedPath bool
	rows       map[string]*site
	staleAfter time.Duration
}

func newDimension(n int, lockedPath bool) *dimension {
	d := &dimension{rows: make(map[string]*site, n), lockedPath: lockedPath, staleAfter: 15 * time.Second}
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("site-%04d", i)
		s := loadSite(i)
		// rows of the snapshot were loaded over the last refresh period
		s.loaded = s.loaded.Add(-rand.N(d.staleAfter))
		d.rows[key] = s
	}
	return d
}

func loadSite(i int) *site {
	return &site{region: regions[i%len(regions)], owner: fmt.Sprintf("owner-%d", i%311), tz: "UTC",
		loaded: time.Now(), contact: make([]byte, 96)}
}

// fetchSite is the round trip to the dimension store.
func fetchSite(key string) *site {
	time.Sleep(2 * time.Millisecond)
	var i int
	_, _ = fmt.Sscanf(key, "site-%d", &i)
	return loadSite(i)
}

func (d *dimension) lookup(key string) (*site, bool) {
	if d.lockedPath {
		d.mu.Lock() // FAULT(lock-contention:dim-refresh-lock)
		defer d.mu.Unlock()
		s, ok := d.rows[key]
		if ok && time.Since(s.loaded) > d.staleAfter {
			s = fetchSite(key)
			d.rows[key] = s
		}
		return s, ok
	}
	d.mu.RLock()
	s, ok := d.rows[key]
	d.mu.RUnlock()
	if ok && time.Since(s.loaded) > d.staleAfter {
		fresh := fetchSite(key)
		d.mu.Lock()
		d.rows[key] = fresh
		d.mu.Unlock()
		s = fresh
	}
	return s, ok
}
