//go:build !unix

package main

import "runtime/metrics"

// cpuSeconds is the runtime's own CPU accounting (Go code, GC and scavenger work)
// where getrusage is not available; the runtime updates it at each GC.
func cpuSeconds() float64 {
	s := []metrics.Sample{
		{Name: "/cpu/classes/user:cpu-seconds"},
		{Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/cpu/classes/scavenge/total:cpu-seconds"},
	}
	metrics.Read(s)
	total := 0.0
	for _, v := range s {
		if v.Value.Kind() == metrics.KindFloat64 {
			total += v.Value.Float64()
		}
	}
	return total
}
