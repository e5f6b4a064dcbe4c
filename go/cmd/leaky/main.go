// leaky leaks goroutines blocked sending on an unbuffered channel whose receiver
// gave up: the classic abandoned-sender leak. Every /work request and every tick of
// the background loop adds one.
package main

import (
	"net/http"
	"time"

	"godiag.test/internal/serve"
)

func fetch(timeout time.Duration) (string, bool) {
	ch := make(chan string)
	go func() {
		time.Sleep(time.Millisecond)
		ch <- "value" // blocks forever once the receiver timed out
	}()
	select {
	case v := <-ch:
		return v, true
	case <-time.After(timeout):
		return "", false
	}
}

func main() {
	http.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fetch(0)
		w.WriteHeader(http.StatusAccepted)
	})
	serve.Start()
	for {
		fetch(0)
		time.Sleep(20 * time.Millisecond)
	}
}
