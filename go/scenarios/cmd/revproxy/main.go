// revproxy fronts a backend API: it adds auth headers, proxies, and caches
// nothing; connections to the backend are pooled and reused.
package main

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"godiag.scenarios/internal/svc"
)

func main() {
	backend := svc.Upstream(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Internal-Auth") == "" {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"items":[%s]}`, r.URL.Path, strings.Repeat(`{"id":1},`, 20)+`{"id":2}`)
	}))
	target, _ := url.Parse(backend)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}
	s := svc.Start("revproxy")
	s.Handle("/api/", func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Internal-Auth", "gateway")
		proxy.ServeHTTP(w, r)
	})
	s.Rate(300, func(i int) { s.Get(fmt.Sprintf("/api/orders/%d", i%1000)) })
	s.Serve()
}
