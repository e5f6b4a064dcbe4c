// Package metrics serves /metrics in the Prometheus text format with the series
// client_golang's Go collector exposes (go_info, go_build_info, GC and CPU classes),
// so test programs look like instrumented services without a module dependency.
package metrics

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

var samples = []struct{ key, name, help, kind string }{
	{"/gc/cycles/total:gc-cycles", "go_gc_cycles_total_gc_cycles_total", "Count of all completed GC cycles.", "counter"},
	{"/cpu/classes/gc/total:cpu-seconds", "go_cpu_classes_gc_total_cpu_seconds_total", "Estimated total CPU time spent performing GC tasks.", "counter"},
	{"/cpu/classes/total:cpu-seconds", "go_cpu_classes_total_cpu_seconds_total", "Estimated total available CPU time.", "counter"},
	{"/memory/classes/heap/objects:bytes", "go_memory_classes_heap_objects_bytes", "Memory occupied by live and dead unswept objects.", "gauge"},
}

// Register adds the /metrics handler to the default mux.
func Register() {
	http.HandleFunc("/metrics", serve)
}

func serve(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	fmt.Fprintln(w, "# HELP go_info Information about the Go environment.")
	fmt.Fprintln(w, "# TYPE go_info gauge")
	fmt.Fprintf(w, "go_info{version=%q} 1\n", runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintln(w, "# HELP go_build_info Build information about the main Go module.")
		fmt.Fprintln(w, "# TYPE go_build_info gauge")
		fmt.Fprintf(w, "go_build_info{checksum=%q,path=%q,version=%q} 1\n", bi.Main.Sum, bi.Main.Path, bi.Main.Version)
	}
	fmt.Fprintln(w, "# HELP go_goroutines Number of goroutines that currently exist.")
	fmt.Fprintln(w, "# TYPE go_goroutines gauge")
	fmt.Fprintf(w, "go_goroutines %d\n", runtime.NumGoroutine())
	read := make([]metrics.Sample, len(samples))
	for i, s := range samples {
		read[i].Name = s.key
	}
	metrics.Read(read)
	for i, s := range samples {
		var v float64
		switch read[i].Value.Kind() {
		case metrics.KindUint64:
			v = float64(read[i].Value.Uint64())
		case metrics.KindFloat64:
			v = read[i].Value.Float64()
		default:
			continue
		}
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %g\n", s.name, s.help, s.name, s.kind, s.name, v)
	}
}
