// heapleak retains a buffer on every tick in a package-level cache that is never
// pruned: heap in use grows steadily at one allocation site (cacheResponse).
// It serves /debug/pprof and /metrics. Flags: -every (tick), -size (bytes per tick).
package main

import (
	"flag"
	"sync"
	"time"

	"godiag.test/internal/metrics"
	"godiag.test/internal/serve"
)

var (
	cacheMu sync.Mutex
	cache   = map[int][]byte{}
)

// cacheResponse keeps every response forever: the leak.
func cacheResponse(key, size int) {
	buf := make([]byte, size)
	for i := range buf {
		buf[i] = byte(key + i)
	}
	cacheMu.Lock()
	cache[key] = buf
	cacheMu.Unlock()
}

func main() {
	every := flag.Duration("every", 20*time.Millisecond, "interval between retained buffers")
	size := flag.Int("size", 64<<10, "bytes retained per interval")
	flag.Parse()
	metrics.Register()
	serve.Start()
	for key := 0; ; key++ {
		cacheResponse(key, *size)
		time.Sleep(*every)
	}
}
