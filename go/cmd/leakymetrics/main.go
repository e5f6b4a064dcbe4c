// leakymetrics is leaky with a Prometheus /metrics endpoint: the same abandoned-sender
// leak (one goroutine per tick of the background loop), plus the client_golang names the
// standard Go alert rules use (go_goroutines, go_threads, heap and GC figures), written in
// the text exposition format with the standard library only.
package main

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/pprof"
	"time"

	"godiag.test/internal/serve"
)

func fetch(timeout time.Duration) {
	ch := make(chan string)
	go func() {
		time.Sleep(time.Millisecond)
		ch <- "value" // blocks forever once the receiver timed out
	}()
	select {
	case <-ch:
	case <-time.After(timeout):
	}
}

func metrics(w http.ResponseWriter, _ *http.Request) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	threads := pprof.Lookup("threadcreate").Count()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "# HELP go_goroutines Number of goroutines that currently exist.\n")
	fmt.Fprintf(w, "# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	fmt.Fprintf(w, "# TYPE go_threads gauge\ngo_threads %d\n", threads)
	fmt.Fprintf(w, "# TYPE go_memstats_heap_inuse_bytes gauge\ngo_memstats_heap_inuse_bytes %d\n", m.HeapInuse)
	fmt.Fprintf(w, "# TYPE go_memstats_heap_alloc_bytes gauge\ngo_memstats_heap_alloc_bytes %d\n", m.HeapAlloc)
	fmt.Fprintf(w, "# TYPE go_gc_duration_seconds_count counter\ngo_gc_duration_seconds_count %d\n", m.NumGC)
	fmt.Fprintf(w, "# TYPE go_info gauge\ngo_info{version=%q} 1\n", runtime.Version())
}

func main() {
	http.HandleFunc("/metrics", metrics)
	serve.Start()
	for {
		fetch(0)
		time.Sleep(20 * time.Millisecond)
	}
}
