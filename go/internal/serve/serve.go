// Package serve starts the test programs' HTTP server on a loopback port and
// announces it on stdout so the test harness can find it.
package serve

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
)

// Start listens on 127.0.0.1 (port from $ADDR or a free one), prints
// "LISTEN http://ADDR" and serves the default mux in the background.
func Start() string {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	url := "http://" + ln.Addr().String()
	go func() { _ = http.Serve(ln, nil) }()
	fmt.Printf("LISTEN %s\n", url)
	return url
}
