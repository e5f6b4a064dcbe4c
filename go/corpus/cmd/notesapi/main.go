// notesapi is a small multi-user notes service: a JSON REST API over an in-memory store,
// with full-text search, pagination, sharing between users and an outgoing webhook on
// every new note. A population of simulated users drives it over loopback HTTP.
package main

import (
	"math/rand/v2"
	"runtime"

	"godiag.corpus/internal/expose"
)

var variants = []string{
	"steady", "page-cache", "bulk-import",
	"webhook-timeout", "request-audit", "replicate-under-lock", "share-lock-order",
	"search-compile", "render-concat", "ship-per-batch",
}

func main() {
	// Contention and blocking are sampled fleet-wide for this service.
	runtime.SetMutexProfileFraction(20)
	runtime.SetBlockProfileRate(50_000)

	e := expose.Start("notesapi", variants...)
	st := newStore(e.Variant)
	a := newAPI(st, e.Variant)
	a.self = e.URL
	// the collector's old load balancer wanted a connection per batch; some sites still do
	accessLog = newShipper(collector(), e.Variant == "ship-per-batch")
	go accessLog.run()
	a.routes(e.Mux)
	go a.replicator()

	pop := newPopulation(e, 24)
	for _, u := range pop.users {
		st.seed(u.name, 200+rand.IntN(50))
	}
	pop.run()
	expose.Wait()
}
