// Command demo is the service godiag's demo diagnoses: a small quote API whose
// /quote handler asks two upstream "pricing backends" and keeps the first answer.
// The slower backend's goroutine is abandoned: it blocks forever sending on an
// unbuffered channel nobody reads any more. Each request leaks one goroutine.
//
// -fault picks the planted fault: goroutine-leak (the default, above), memory-leak
// (every quote is also kept in an ever-growing history), lock-contention (the cache
// mutex is held while the quote is "audited"), or healthy (a buffered result channel).
//
// It listens on loopback only ($ADDR, default 127.0.0.1:0), prints
// "LISTEN http://ADDR" when ready, and serves net/http/pprof, expvar and /metrics.
package main

import (
	"encoding/json"
	"expvar"
	"flag"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sync"
	"time"
)

var (
	requests    = expvar.NewInt("quote_requests")
	fault       = flag.String("fault", "goroutine-leak", "goroutine-leak, memory-leak, lock-contention or healthy")
	withMetrics = flag.Bool("metrics", true, "serve /metrics (false: pprof and expvar only, like many services)")
	history     [][]byte // memory-leak: every answer's raw record, never trimmed
	histMu      sync.Mutex
)

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
	size := 0
	if *fault != "goroutine-leak" {
		size = 2 // both backends can always deliver: nothing leaks
	}
	results := make(chan quote, size)
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
	if *fault == "lock-contention" {
		audit(q) // the bug: slow work while every other request waits for the lock
	}
	if len(c.m) > 1000 {
		c.m = map[string]quote{}
	}
	c.m[q.Symbol] = q
}

// audit sends the quote to the audit service and waits for its answer (a stand-in
// for a slow remote validation: about 5 ms).
func audit(q quote) {
	time.Sleep(5 * time.Millisecond)
	_ = q
}

// remember keeps a 64 KiB record of every answer forever (memory-leak).
func remember(q quote) {
	rec := make([]byte, 64<<10)
	copy(rec, q.Symbol)
	histMu.Lock()
	history = append(history, rec)
	histMu.Unlock()
}

func main() {
	flag.Parse()
	switch *fault {
	case "goroutine-leak", "healthy", "memory-leak":
	case "lock-contention":
		runtime.SetMutexProfileFraction(5)
	default:
		fmt.Fprintf(os.Stderr, "demo: unknown -fault %q\n", *fault)
		os.Exit(2)
	}
	c := &cache{m: map[string]quote{}}
	if *withMetrics {
		http.HandleFunc("/metrics", serveMetrics)
	}
	http.HandleFunc("/quote", counted(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		sym := r.URL.Query().Get("symbol")
		if sym == "" {
			sym = "GOOG"
		}
		q := fetchQuote(sym)
		c.put(q)
		if *fault == "memory-leak" {
			remember(q)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(q)
	}))
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
