// streamhub pushes live updates to browsers: server-sent event streams and long polls
// over topics (prices, orders, region announcements). A notifier publishes; browser
// tabs come and go; regional mirrors follow the hub's own stream as a peer region's
// hub would. Everything runs in this process over loopback HTTP.
package main

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"time"

	"godiag.corpus/internal/expose"
)

var variants = []string{
	"steady", "parked-polls", "repricing-burst",
	"orphan-subscription", "stale-mirror", "unbounded-history", "archive-under-lock",
	"direct-write", "filter-recompile", "frame-sprintf",
}

func main() {
	// Lock contention is sampled; blocking is not (long polls would swamp it).
	runtime.SetMutexProfileFraction(10)

	e := expose.Start("streamhub", variants...)
	h := newHub(modeFor(e.Variant))
	mux := http.NewServeMux()
	h.routes(mux)
	edge := serveEdge(mux)
	go h.archiver()
	startTraffic(e, h, edge)
	expose.Wait()
}

// serveEdge serves the public API on its own listener (the debug endpoints stay on the
// internal one). Each connection's kernel send buffer is capped so that a slow client
// cannot pin megabytes of queued events; a writer to it waits instead.
func serveEdge(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(32 << 10)
			}
			return ctx
		}}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String()
}
