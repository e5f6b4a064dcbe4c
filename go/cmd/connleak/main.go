// connleak dials a TCP server of its own and never closes what it dialled: a connection
// leak, with net/http/pprof only (no /metrics, so no process_open_fds to read it from).
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"time"
)

var held []net.Conn // keeps the leaked connections reachable, as a forgotten pool would

func main() {
	every := flag.Duration("every", 50*time.Millisecond, "dial one connection this often")
	peerClose := flag.Bool("peerclose", false,
		"the upstream hangs up on each connection at once (an idle timeout): what is held sits in CLOSE_WAIT")
	flag.Parse()
	upstream, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	go func() {
		for {
			c, err := upstream.Accept()
			if err != nil {
				return
			}
			if *peerClose {
				_ = c.Close()
				continue
			}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	go func() {
		for range time.Tick(*every) {
			c, err := net.Dial("tcp", upstream.Addr().String())
			if err == nil {
				held = append(held, c) // never closed
			}
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	_ = http.Serve(ln, nil)
}
