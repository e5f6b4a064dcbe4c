// ratelimiter is an API front door with a token bucket per client key; a
// janitor drops buckets of clients that went quiet.
package main

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type bucket struct {
	tokens float64
	last   time.Time
}

type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	rate    float64
	burst   float64
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *limiter) janitor(idle time.Duration) {
	t := time.NewTicker(idle / 2)
	defer t.Stop()
	for now := range t.C {
		l.mu.Lock()
		for k, b := range l.buckets {
			if now.Sub(b.last) > idle {
				delete(l.buckets, k)
			}
		}
		l.mu.Unlock()
	}
}

func main() {
	l := &limiter{buckets: map[string]*bucket{}, rate: 5, burst: 10}
	go l.janitor(2 * time.Second)
	s := svc.Start("ratelimiter")
	s.Handle("/api/", func(w http.ResponseWriter, r *http.Request) {
		if !l.allow(r.Header.Get("X-Api-Key")+r.URL.Query().Get("key"), time.Now()) {
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	s.Rate(200, func(i int) { s.Get(fmt.Sprintf("/api/items?key=client-%d", (i*17)%3000)) })
	s.Serve()
}
