// ledger moves money between accounts; each account has its own lock so
// unrelated transfers run in parallel.
package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type account struct {
	mu      sync.Mutex
	id      int
	balance int64
}

type ledger struct {
	accounts []*account
}

// transfer moves amount from one account to another.
func (l *ledger) transfer(from, to *account, amount int64) error {
	from.mu.Lock()
	defer from.mu.Unlock()
	if from.balance < amount {
		return fmt.Errorf("account %d: insufficient funds", from.id)
	}
	time.Sleep(5 * time.Millisecond) // fraud check
	to.mu.Lock()                     // FAULT(deadlock)
	defer to.mu.Unlock()
	from.balance -= amount
	to.balance += amount
	return nil
}

func main() {
	runtime.SetBlockProfileRate(100000)
	l := &ledger{}
	for i := 0; i < 16; i++ {
		l.accounts = append(l.accounts, &account{id: i, balance: 1_000_000})
	}
	// Account 0 is the bank's own account: a settlement job keeps paying interest out of it.
	go func() {
		for i := 0; ; i++ {
			_ = l.transfer(l.accounts[0], l.accounts[1+i%(len(l.accounts)-1)], 1)
		}
	}()
	s := svc.Start("ledger")
	s.Handle("/transfer", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a, _ := strconv.Atoi(q.Get("from"))
		b, _ := strconv.Atoi(q.Get("to"))
		if a == b || a < 0 || b < 0 || a >= len(l.accounts) || b >= len(l.accounts) {
			http.Error(w, "bad accounts", http.StatusBadRequest)
			return
		}
		if err := l.transfer(l.accounts[a], l.accounts[b], 10); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	s.Handle("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s.Rate(150, func(i int) {
		to := rand.IntN(16)
		if i%2 == 0 {
			to = 0 // transfer fee to the bank
		}
		s.Get(fmt.Sprintf("/transfer?from=%d&to=%d", 1+rand.IntN(15), to))
	})
	s.Workers(1, 500*time.Millisecond, func(int) { s.Get("/healthz") })
	s.Serve()
}
