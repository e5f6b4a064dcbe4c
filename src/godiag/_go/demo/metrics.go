package main

// A /metrics page in the Prometheus text format with the Go and process metrics
// client_golang's default registry exports under the same names, written with the
// standard library only so the demo builds offline.

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

var (
	codesMu sync.Mutex
	codes   = map[int]int64{} // answers by status code (http_requests_total)
)

// counted wraps a handler so its answers are counted by status code.
func counted(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h(sw, r)
		codesMu.Lock()
		codes[sw.code]++
		codesMu.Unlock()
	}
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func gogc() float64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 {
		return float64(s[0].Value.Uint64())
	}
	return 100
}

func serveMetrics(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	threads, _ := runtime.ThreadCreateProfile(nil)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	p := func(name, typ string, v float64) {
		fmt.Fprintf(w, "# TYPE %s %s\n%s %g\n", name, typ, name, v)
	}
	fmt.Fprintf(w, "# TYPE go_info gauge\ngo_info{version=%q} 1\n", runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(w, "# TYPE go_build_info gauge\ngo_build_info{path=%q,version=%q} 1\n", bi.Main.Path, bi.Main.Version)
	}
	p("go_goroutines", "gauge", float64(runtime.NumGoroutine()))
	p("go_threads", "gauge", float64(threads))
	p("go_memstats_heap_inuse_bytes", "gauge", float64(ms.HeapInuse))
	p("go_memstats_heap_alloc_bytes", "gauge", float64(ms.HeapAlloc))
	p("go_memstats_alloc_bytes_total", "counter", float64(ms.TotalAlloc))
	fmt.Fprintf(w, "# TYPE go_gc_duration_seconds summary\ngo_gc_duration_seconds_sum %g\ngo_gc_duration_seconds_count %d\n",
		float64(ms.PauseTotalNs)/1e9, ms.NumGC)
	p("go_gc_gogc_percent", "gauge", gogc())
	p("process_cpu_seconds_total", "counter", cpuSeconds())
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		p("process_open_fds", "gauge", float64(len(fds)))
	}
	codesMu.Lock()
	defer codesMu.Unlock()
	fmt.Fprintln(w, "# TYPE http_requests_total counter")
	for code, n := range codes {
		fmt.Fprintf(w, "http_requests_total{code=\"%d\"} %d\n", code, n)
	}
}
