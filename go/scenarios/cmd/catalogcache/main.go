// catalogcache renders product pages and caches the rendered bytes by request
// URL so repeated views are cheap.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"godiag.scenarios/internal/svc"
)

type product struct {
	ID    int
	Name  string
	Price float64
}

type pageCache struct {
	mu    sync.Mutex
	pages map[string][]byte
}

// page returns the cached rendering for key, rendering it on a miss.
func (c *pageCache) page(key string, p product) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.pages[key]; ok {
		return b
	}
	b := make([]byte, 0, 8<<10) // FAULT(memory-leak)
	b = render(b, p)
	c.pages[key] = b
	return b
}

func render(b []byte, p product) []byte {
	b = fmt.Appendf(b, "<html><h1>%s</h1><p>price %.2f</p><ul>", p.Name, p.Price)
	for i := 0; i < 60; i++ {
		b = fmt.Appendf(b, "<li>related item %d of product %d</li>", i, p.ID)
	}
	return append(b, "</ul></html>"...)
}

func main() {
	c := &pageCache{pages: map[string][]byte{}}
	s := svc.Start("catalogcache")
	s.Handle("/product", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		p := product{ID: id, Name: fmt.Sprintf("Product %d", id), Price: float64(id%97) + 0.99}
		// The key is the whole URL, which includes the per-visit tracking parameter.
		w.Write(c.page(r.URL.RequestURI(), p))
	})
	s.Rate(250, func(i int) { s.Get(fmt.Sprintf("/product?id=%d&utm_visit=%d", i%200, i)) })
	s.Serve()
}
