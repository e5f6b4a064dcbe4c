// routetable resolves service names (and their aliases) to backend addresses;
// a watcher applies route updates as they arrive.
package main

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type route struct {
	alias    string
	backends []string
}

type registry struct {
	mu     sync.RWMutex
	routes map[string]route
}

func (r *registry) lookup(name string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	rt := r.routes[name]
	if rt.alias != "" {
		// Normalise the alias the way clients spell it.
		alias := strings.ToLower(strings.TrimSpace(rt.alias))
		r.recordAliasHit(name)
		return r.resolve(alias)
	}
	return rt.backends
}

// recordAliasHit reports alias use to the stats backend (a short round trip).
func (r *registry) recordAliasHit(name string) {
	time.Sleep(100 * time.Microsecond)
}

// resolve follows an alias to its backends.
func (r *registry) resolve(name string) []string {
	r.mu.RLock() // FAULT(deadlock)
	defer r.mu.RUnlock()
	return r.routes[name].backends
}

func (r *registry) update(name string, backends []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes[name] = route{backends: backends}
}

func main() {
	runtime.SetMutexProfileFraction(20)
	reg := &registry{routes: map[string]route{}}
	for i := 0; i < 50; i++ {
		reg.routes[fmt.Sprintf("svc-%d", i)] = route{backends: []string{fmt.Sprintf("10.0.0.%d:8080", i)}}
		reg.routes[fmt.Sprintf("alias-%d", i)] = route{alias: fmt.Sprintf(" SVC-%d ", i)}
	}
	go func() {
		for v := 0; ; v++ {
			time.Sleep(2 * time.Millisecond)
			reg.update(fmt.Sprintf("svc-%d", v%50), []string{fmt.Sprintf("10.0.1.%d:8080", v%250)})
		}
	}()
	s := svc.Start("routetable")
	s.Handle("/resolve", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, strings.Join(reg.lookup(r.URL.Query().Get("name")), ","))
	})
	s.Handle("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s.Rate(200, func(i int) { s.Get(fmt.Sprintf("/resolve?name=alias-%d", i%50)) })
	s.Workers(1, 500*time.Millisecond, func(int) { s.Get("/healthz") })
	s.Serve()
}
