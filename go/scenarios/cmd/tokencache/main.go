// tokencache is an API gateway that attaches OAuth tokens for downstream
// services, caching each token until shortly before it expires.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type token struct {
	value   string
	expires time.Time
}

type tokenCache struct {
	mu     sync.Mutex
	tokens map[string]token
}

func (c *tokenCache) get(service string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tokens[service]
	if ok && time.Until(t.expires) > 100*time.Millisecond {
		return t.value
	}
	return c.refresh(service)
}

// refresh fetches a new token from the identity provider and caches it.
func (c *tokenCache) refresh(service string) string {
	c.mu.Lock() // FAULT(deadlock)
	defer c.mu.Unlock()
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	t := token{value: hex.EncodeToString(b), expires: time.Now().Add(time.Hour)}
	c.tokens[service] = t
	return t.value
}

func main() {
	c := &tokenCache{tokens: map[string]token{}}
	// Tokens issued at deploy time, valid for a short while.
	for _, svcName := range []string{"billing", "search", "profile"} {
		c.tokens[svcName] = token{value: "boot-" + svcName, expires: time.Now().Add(300 * time.Millisecond)}
	}
	s := svc.Start("tokencache")
	s.Handle("/proxy", func(w http.ResponseWriter, r *http.Request) {
		tok := c.get(r.URL.Query().Get("to"))
		fmt.Fprintf(w, "forwarded with token %s\n", tok[:4])
	})
	s.Handle("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	names := []string{"billing", "search", "profile"}
	s.Rate(100, func(i int) { s.Get("/proxy?to=" + names[i%3]) })
	s.Workers(1, 500*time.Millisecond, func(int) { s.Get("/healthz") })
	s.Serve()
}
