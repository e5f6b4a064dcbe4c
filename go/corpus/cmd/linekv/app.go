package main

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"godiag.corpus/internal/expose"
)

// app is the service using the store: web workers keeping sessions, a report builder
// and a health checker.
type app struct {
	env  *expose.Env
	addr string
	cfg  setup
	pool *pool

	nextSession atomic.Uint64
	recentMu    sync.Mutex
	recent      [512]string
	recentN     int
}

func (a *app) start() {
	if a.cfg.warm > 0 {
		a.pool.warm(a.cfg.warm)
	}
	for i := 0; i < 16; i++ {
		go a.worker()
	}
	for i := 0; i < 3; i++ { // one report builder per region
		go a.reporter()
	}
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			a.healthCheck()
		}
	}()
}

func (a *app) pause(perSecond float64) {
	rate := perSecond * a.env.Factor()
	if rate < 0.2 {
		rate = 0.2
	}
	d := time.Duration(float64(time.Second) / rate)
	time.Sleep(time.Duration(rand.Int64N(int64(2 * d))))
}

func (a *app) remember(k string) {
	a.recentMu.Lock()
	a.recent[a.recentN%len(a.recent)] = k
	a.recentN++
	a.recentMu.Unlock()
}

func (a *app) recentKey() string {
	a.recentMu.Lock()
	defer a.recentMu.Unlock()
	n := min(a.recentN, len(a.recent))
	if n == 0 {
		return "session:none"
	}
	return a.recent[(a.recentN-1-rand.IntN(n))%len(a.recent)]
}

func sessionBlob() string {
	raw := make([]byte, 1500+rand.IntN(1500))
	for i := range raw {
		raw[i] = byte(rand.Uint32())
	}
	return base64.RawURLEncoding.EncodeToString(raw)
}

// worker serves one web request at a time: it takes a connection for the request and
// issues a few commands between bits of its own work.
func (a *app) worker() {
	for {
		a.pause(12)
		c, err := a.pool.get()
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for i := 1 + rand.IntN(3); i > 0 && err == nil; i-- {
			err = a.step(c)
			time.Sleep(time.Duration(3+rand.IntN(8)) * time.Millisecond) // rendering, calls elsewhere
		}
		a.pool.put(c, err != nil)
	}
}

func (a *app) step(c *conn) error {
	ttl := strconv.Itoa(3 + rand.IntN(6))
	switch r := rand.IntN(100); {
	case r < 35: // a new login
		k := "session:" + strconv.FormatUint(a.nextSession.Add(1), 36)
		if _, err := c.do("SET", k, sessionBlob()); err != nil {
			return err
		}
		a.remember(k)
		_, err := c.do("EXPIRE", k, ttl)
		return err
	case r < 50: // activity on a session: store the new state, push the expiry out
		k := a.recentKey()
		if _, err := c.do("SET", k, sessionBlob()); err != nil {
			return err
		}
		if a.cfg.touchNoTTL {
			return nil // FAULT(memory-leak:touch-drops-ttl)
		}
		_, err := c.do("EXPIRE", k, ttl)
		return err
	case r < 70:
		_, err := c.do("GET", a.recentKey())
		return err
	case r < 95:
		_, err := c.do("GET", fmt.Sprintf("profile:%07d", rand.IntN(a.cfg.profiles)))
		return err
	default: // a logout
		_, err := c.do("DEL", a.recentKey())
		return err
	}
}

// reporter walks the profile keyspace continuously for the nightly-style report.
func (a *app) reporter() {
	cursor, total := 0, 0
	var own *conn
	for {
		a.pause(8)
		c := own
		if a.cfg.scanDials {
			// a scan page can be large: use a connection of its own, not a pooled one
			d, err := dialKV(a.addr) // FAULT(connection-leak:dial-per-scan)
			if err != nil {
				continue
			}
			c = d
		} else if c == nil {
			d, err := dialKV(a.addr)
			if err != nil {
				continue
			}
			own, c = d, d
		}
		rows, next, err := c.scan(cursor, "profile:*", 500)
		if err != nil {
			if c == own {
				own.close()
				own = nil
			}
			cursor = 0
			continue
		}
		for _, r := range rows {
			total += len(r)
		}
		cursor = next
	}
}

// healthCheck is what the load balancer does: connect, PING, hang up.
func (a *app) healthCheck() {
	c, err := dialKV(a.addr)
	if err != nil {
		return
	}
	_, _ = c.do("PING")
	c.close()
}
