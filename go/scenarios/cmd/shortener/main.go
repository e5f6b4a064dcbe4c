// shortener turns long URLs into short codes and redirects visitors.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"godiag.scenarios/internal/svc"
)

type links struct {
	mu     sync.RWMutex
	byCode map[string]string
	hits   atomic.Int64
}

func code(url string) string {
	sum := sha256.Sum256([]byte(url))
	return base64.RawURLEncoding.EncodeToString(sum[:6])
}

func main() {
	l := &links{byCode: map[string]string{}}
	s := svc.Start("shortener")
	s.Handle("/shorten", func(w http.ResponseWriter, r *http.Request) {
		u := r.FormValue("url")
		if !strings.HasPrefix(u, "https://") {
			http.Error(w, "only https URLs", http.StatusBadRequest)
			return
		}
		c := code(u)
		l.mu.Lock()
		l.byCode[c] = u
		l.mu.Unlock()
		fmt.Fprintln(w, c)
	})
	s.Handle("/r/", func(w http.ResponseWriter, r *http.Request) {
		l.mu.RLock()
		u, ok := l.byCode[strings.TrimPrefix(r.URL.Path, "/r/")]
		l.mu.RUnlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		l.hits.Add(1)
		http.Redirect(w, r, u, http.StatusFound)
	})
	// A fixed population of 5000 links: creating one again is idempotent.
	s.Rate(150, func(i int) {
		u := fmt.Sprintf("https://example.com/articles/%d", i%5000)
		if i%5 == 0 {
			s.Get("/shorten?url=" + u)
		} else {
			s.Get("/r/" + code(u))
		}
	})
	s.Serve()
}
