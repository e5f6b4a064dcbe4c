// quoteproxy serves stock quotes from a slow pricing backend, answering with a
// timeout when the backend is late.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"godiag.scenarios/internal/svc"
)

type quote struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
}

var errTimeout = errors.New("pricing backend timed out")

// pricer stands in for a remote pricing service with a spread of latencies.
type pricer struct{ meanLatency time.Duration }

func (p *pricer) lookup(sym string) quote {
	time.Sleep(time.Duration(rand.Int64N(int64(2 * p.meanLatency))))
	return quote{Symbol: sym, Price: 100 + 10*rand.Float64()}
}

// fetchQuote asks the backend but gives up after timeout.
func fetchQuote(p *pricer, sym string, timeout time.Duration) (quote, error) {
	ch := make(chan quote)
	go func() {
		ch <- p.lookup(sym) // FAULT(goroutine-leak)
	}()
	select {
	case q := <-ch:
		return q, nil
	case <-time.After(timeout):
		return quote{}, errTimeout
	}
}

func main() {
	p := &pricer{meanLatency: 40 * time.Millisecond}
	s := svc.Start("quoteproxy")
	s.Handle("/quote", func(w http.ResponseWriter, r *http.Request) {
		q, err := fetchQuote(p, r.URL.Query().Get("sym"), 50*time.Millisecond)
		if err != nil {
			http.Error(w, err.Error(), http.StatusGatewayTimeout)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(q)
	})
	syms := []string{"ACME", "GLOBX", "INITech", "UMBR", "HOOLI"}
	s.Rate(100, func(i int) { s.Get(fmt.Sprintf("/quote?sym=%s", syms[i%len(syms)])) })
	s.Serve()
}
