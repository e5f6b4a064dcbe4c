// fxrates converts amounts between currencies, refreshing rates from a slow
// upstream when they get stale.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type rate struct {
	value float64
	at    time.Time
}

type rateStore struct {
	mu    sync.Mutex
	rates map[string]rate
	ttl   time.Duration
}

// fetch stands in for the upstream rates API: a round trip plus a signature check.
func fetch(pair string) float64 {
	time.Sleep(2 * time.Millisecond)
	sum := sha256.Sum256([]byte(pair + time.Now().String()))
	return 0.5 + float64(binary.BigEndian.Uint16(sum[:]))/65536
}

// convert returns amount in the target currency.
func (s *rateStore) convert(from, to string, amount float64) float64 {
	pair := from + to
	s.mu.Lock() // FAULT(lock-contention)
	defer s.mu.Unlock()
	r, ok := s.rates[pair]
	if !ok || time.Since(r.at) > s.ttl {
		r = rate{value: fetch(pair), at: time.Now()}
		s.rates[pair] = r
	}
	return amount * r.value
}

func main() {
	runtime.SetMutexProfileFraction(5)
	st := &rateStore{rates: map[string]rate{}, ttl: 20 * time.Millisecond}
	s := svc.Start("fxrates")
	s.Handle("/convert", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		amt, _ := strconv.ParseFloat(q.Get("amount"), 64)
		fmt.Fprintf(w, "%.4f\n", st.convert(q.Get("from"), q.Get("to"), amt))
	})
	cur := []string{"EUR", "USD", "GBP", "JPY", "CHF", "SEK"}
	s.Workers(12, 0, func(i int) {
		i = rand.IntN(1000)
		s.Get(fmt.Sprintf("/convert?from=%s&to=%s&amount=%d", cur[i%6], cur[(i/6)%6], i%1000))
	})
	s.Serve()
}
