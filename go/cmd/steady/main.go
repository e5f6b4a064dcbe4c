// steady is a healthy service: a fixed pool of workers allocates request buffers
// at the same pace as heapleak but keeps only a bounded ring of them, so heap in use
// and the goroutine count stay flat. It serves /debug/pprof and /metrics.
package main

import (
	"flag"
	"sync"
	"time"

	"godiag.test/internal/metrics"
	"godiag.test/internal/serve"
)

const ringSize = 16

var (
	ringMu sync.Mutex
	ring   [ringSize][]byte
)

// handleRequest allocates a buffer and replaces the oldest one in the ring.
func handleRequest(key, size int) {
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(key + i)
	}
	ringMu.Lock()
	ring[key%ringSize] = buf
	ringMu.Unlock()
}

func worker(jobs <-chan int, size int) {
	for key := range jobs {
		handleRequest(key, size)
	}
}

func main() {
	every := flag.Duration("every", 20*time.Millisecond, "interval between requests")
	size := flag.Int("size", 64<<10, "bytes allocated per request")
	flag.Parse()
	metrics.Register()
	jobs := make(chan int)
	for i := 0; i < 4; i++ {
		go worker(jobs, *size)
	}
	serve.Start()
	for key := 0; ; key++ {
		jobs <- key
		time.Sleep(*every)
	}
}
