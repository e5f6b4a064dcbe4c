// lrucache is an in-memory object cache in front of a slow origin: a sharded LRU with
// TTLs, GET/PUT over HTTP, a janitor that expires items and reloads the hot ones ahead of
// demand, and coalesced origin loads on a miss. It drives its own clients.
package main

import (
	"fmt"
	"hash/crc32"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"godiag.corpus/internal/expose"
)

// deployment is how one installation of the cache is sized and configured.
type deployment struct {
	shards   int
	maxBytes int
	ttl      time.Duration
	restore  int // objects restored from the last snapshot at start
	warmers  int // parallel origin loads at start, until the cache is full
	keys     uint64
	skew     float64 // Zipf exponent of the clients' key choice
	writes   float64 // share of requests that are PUTs
	perSec   float64 // requests a second at intensity 1
	putSize  int     // largest object a client writes
	purges   bool    // a publisher invalidates the hottest objects every few seconds
}

func main() {
	e := expose.Start("lrucache", "steady", "fill-flat", "big-stable", "purge-burst",
		"write-journal", "lost-waiter", "fetch-under-lock", "sweep-notify", "hot-rank",
		"hex-wire", "missing-body")
	runtime.SetMutexProfileFraction(20)

	d := deployment{shards: 16, maxBytes: 24 << 20, ttl: 30 * time.Second, keys: 60000,
		skew: 1.1, writes: 0.12, perSec: 300, restore: 8000, putSize: 4096}
	base, err := startOrigin()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lrucache: origin:", err)
		os.Exit(1)
	}
	origin := &originClient{base: base, http: &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	a := &api{budget: 150 * time.Millisecond, slots: make(chan struct{}, 256),
		replays: newReplayLog(8192), journal: map[string][]byte{}}
	ld := &loader{inflight: map[string]*flight{}, fetch: origin.fetch, replyBuf: 1}
	sweepInline := false

	switch e.Variant {
	case "fill-flat":
		d.maxBytes, d.ttl, d.warmers, d.keys, d.skew, d.restore = 64<<20, 10*time.Minute, 96, 400000, 1.01, 0
	case "big-stable":
		d.maxBytes, d.ttl, d.restore, d.writes = 300<<20, 10*time.Minute, 90000, 0.3
		d.keys = 90000
	case "purge-burst":
		d.purges = true
	case "write-journal":
		d.writes, d.putSize = 0.35, 20<<10
		a.journalAll = true
	case "lost-waiter":
		ld.replyBuf = 0
	case "fetch-under-lock":
		a.exclusiveLoads = true
	case "sweep-notify":
		d.ttl = 6 * time.Second
		sweepInline = true
	case "hot-rank":
		d.maxBytes, d.ttl, d.restore = 64<<20, 10*time.Minute, 20000
	case "hex-wire":
		a.hexWire = true
	case "missing-body":
		ld.fetch = origin.fetchStrict
	}
	a.rankEveryHit = e.Variant == "hot-rank"

	c := newCache(d.shards, d.maxBytes, d.ttl)
	a.c, ld.c, a.ld = c, c, ld
	restore(c, d.restore)
	a.routes(e.Mux)

	refresh := make(chan string)
	go refresher(refresh, origin, c)
	go janitor(c, refresh, sweepInline)
	if d.warmers > 0 {
		go warm(c, origin, d)
	}
	go drive(e, d, c)
	expose.Wait()
}

// restore loads n objects as a snapshot would, without asking the origin.
func restore(c *cache, n int) {
	now := time.Now()
	for i := 0; i < n; i++ {
		key := "obj-" + strconv.Itoa(i)
		c.put(key, objectBytes(crc32.ChecksumIEEE([]byte(key))), now)
	}
}

// warm fills a cold cache from the origin with parallel loads until it is full.
func warm(c *cache, o *originClient, d deployment) {
	keys := make(chan string)
	for i := 0; i < d.warmers; i++ {
		go func() {
			for k := range keys {
				if v, err := o.fetch(k); err == nil {
					c.put(k, v, time.Now())
				}
			}
		}()
	}
	for i := uint64(0); i < d.keys; i++ {
		if i%256 == 0 {
			if _, bytes := c.size(); bytes >= d.maxBytes*95/100 {
				break
			}
		}
		keys <- "obj-" + strconv.FormatUint(i, 10)
	}
	close(keys)
}

// janitor expires items every second and hands hot ones to the refresher.
func janitor(c *cache, refresh chan<- string, inline bool) {
	for range time.Tick(time.Second) {
		now := time.Now()
		for _, s := range c.shards {
			if inline {
				s.expireNotify(now, refresh)
				continue
			}
			for _, k := range s.expired(now) {
				refresh <- k
			}
		}
	}
}

// refresher reloads hot objects that expired, so the next reader hits.
func refresher(keys <-chan string, o *originClient, c *cache) {
	for k := range keys {
		if v, err := o.fetch(k); err == nil {
			c.put(k, v, time.Now())
		}
	}
}
