// gateway is a backend-for-frontend: the mobile app's home screen, settings and
// recommendation calls are answered by fanning out to an accounts service (slow, long
// tail) and a recommendations service (flaky: sheds load, redeploys often). Both run in
// this process on their own loopback listeners; the app's traffic arrives as an
// open-loop stream of requests from an in-process client.
package main

import (
	"time"

	"godiag.corpus/internal/expose"
)

var variants = []string{
	"steady", "hedged", "warm-pool",
	"unclosed-error-body", "client-per-call", "slo-watch", "retry-storm",
	"raw-cache-key", "coalesce-under-lock", "breaker-probe", "generic-merge",
}

func main() {
	e := expose.Start("gateway", variants...)
	started := time.Now()
	g := newGateway(settingsFor(e.Variant), serveUpstream(accountsService()), serveUpstream(recsService(started)))
	g.routes(e.Mux)
	g.warm()
	go runApp(e, e.URL)
	expose.Wait()
}
