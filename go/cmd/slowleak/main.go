// slowleak leaks slowly, at a rate set by flags, or runs batches that drain: the
// programs a diagnosis needs history for. A real leak is slow (a goroutine a second,
// tens of KB a minute); in a few seconds' window it is below the noise, over minutes it
// is a straight line. Flags:
//
//	-goroutines D  one goroutine every D blocks forever on a channel nobody sends on
//	               (parkSubscriber; 0: none)
//	-heap D -size N  N bytes every D are kept in a map never pruned (rememberSession)
//	-batch N -batchevery D -batchfor D  N goroutines every D that each wait D, then
//	               finish (runBatch): the count rises and falls back, no leak
//
// It serves /debug/pprof and /metrics (godiag.test/internal/metrics).
package main

import (
	"flag"
	"sync"
	"time"

	"godiag.test/internal/metrics"
	"godiag.test/internal/serve"
)

var (
	sessionsMu sync.Mutex
	sessions   = map[int][]byte{}
)

// parkSubscriber waits for an event that is never sent: the goroutine leak.
func parkSubscriber(events chan struct{}) {
	<-events
}

// rememberSession keeps every session's buffer forever: the memory leak.
func rememberSession(id, size int) {
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(id + i)
	}
	sessionsMu.Lock()
	sessions[id] = buf
	sessionsMu.Unlock()
}

// runBatch starts n workers that each wait `d`, then finish: a burst that drains.
func runBatch(n int, d time.Duration) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(d)
		}()
	}
	wg.Wait()
}

func every(d time.Duration, f func(i int)) {
	if d <= 0 {
		return
	}
	go func() {
		for i := 0; ; i++ {
			f(i)
			time.Sleep(d)
		}
	}()
}

func main() {
	gor := flag.Duration("goroutines", 0, "interval between leaked goroutines (0: none)")
	heap := flag.Duration("heap", 0, "interval between retained buffers (0: none)")
	size := flag.Int("size", 32<<10, "bytes retained per -heap interval")
	batch := flag.Int("batch", 0, "goroutines per batch (0: none)")
	batchEvery := flag.Duration("batchevery", 10*time.Second, "interval between batches")
	batchFor := flag.Duration("batchfor", 2*time.Second, "how long each batch goroutine waits")
	flag.Parse()
	metrics.Register()
	serve.Start()
	events := make(chan struct{})
	every(*gor, func(int) { go parkSubscriber(events) })
	every(*heap, func(i int) { rememberSession(i, *size) })
	if *batch > 0 {
		every(*batchEvery, func(int) { runBatch(*batch, *batchFor) })
	}
	select {}
}
