// Command demo is the service godiag's demo diagnoses: a small quote API whose
// /quote handler asks two upstream "pricing backends" and keeps the first answer.
// The slower backend's goroutine is abandoned: it blocks forever sending on an
// unbuffered channel nobody reads any more. Each request leaks one goroutine.
//
// It listens on loopback only ($ADDR, default 127.0.0.1:0), prints
// "LISTEN http://ADDR" when ready, and serves net/http/pprof and expvar.
package main

import (
	"encoding/json"
	"expvar"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"sync"
	"time"
)

var requests = expvar.NewInt("quote_requests")

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Source string  `json:"source"`
}

// askBackend simulates a pricing backend with a latency between lo and hi.
func askBackend(name, symbol string, lo, hi time.Duration) quote {
	time.Sleep(lo + time.Duration(rand.Int63n(int64(hi-lo))))
	return quote{Symbol: symbol, Price: 100 + rand.Float64(), Source: name}
}

// fetchQuote returns the first backend answer. The bug: results is unbuffered,
// so the slower backend's goroutine blocks on its send forever.
func fetchQuote(symbol string) quote {
	results := make(chan quote)
	for _, b := range []struct {
		name   string
		lo, hi time.Duration
	}{{"primary", time.Millisecond, 5 * time.Millisecond}, {"replica", 20 * time.Millisecond, 40 * time.Millisecond}} {
		b := b
		go func() {
			results <- askBackend(b.name, symbol, b.lo, b.hi) // leaks when nobody receives
		}()
	}
	return <-results
}

// cache is healthy: a bounded map under a mutex, used by /health-style reads.
type cache struct {
	mu sync.Mutex
	m  map[string]quote
}

func (c *cache) put(q quote) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 1000 {
		c.m = map[string]quote{}
	}
	c.m[q.Symbol] = q
}

func main() {
	c := &cache{m: map[string]quote{}}
	http.HandleFunc("/quote", func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		sym := r.URL.Query().Get("symbol")
		if sym == "" {
			sym = "GOOG"
		}
		q := fetchQuote(sym)
		c.put(q)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(q)
	})
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo: listen:", err)
		os.Exit(1)
	}
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
