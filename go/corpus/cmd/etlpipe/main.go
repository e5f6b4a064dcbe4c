// etlpipe is a streaming ETL pipeline for sensor readings: an upstream collector drops
// spool files into a temp directory; the pipeline reads them (one reader per file),
// parses, enriches from a site dimension table and a device registry, aggregates into
// five-second windows and writes each window as a part file, keeping only recent parts.
package main

import (
	"flag"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"godiag.corpus/internal/expose"
)

var variants = []string{
	"steady", "wide-stages", "big-dimension",
	"dropped-enricher", "open-partitions", "registry-body", "dim-refresh-lock",
	"flush-under-lock", "window-rescan", "parse-scratch",
}

func main() {
	// The pipeline team keeps the block profile on to see where stages wait.
	runtime.SetBlockProfileRate(200000)
	env := expose.Start("etlpipe", variants...)

	sweepStale()
	root := filepath.Join(os.TempDir(), "etlpipe-"+strconv.Itoa(os.Getpid()))
	cleanup := func() {
		// the collector and the writer stop creating files first; a file created
		// while the tree is being removed would leave it behind
		shuttingDown.Store(true)
		for i := 0; i < 5; i++ {
			if os.RemoveAll(root) == nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	watchExit(cleanup)

	workers := 4
	if env.Variant == "wide-stages" {
		// provisioned for the month-end replay
		workers = 256
	}
	dimSites := 4000
	if env.Variant == "big-dimension" {
		dimSites = 900000
	}
	dim := newDimension(dimSites, env.Variant == "dim-refresh-lock")
	env.Mux.HandleFunc("/registry/device", registryHandler())

	p, err := newPipeline(env.Variant, root, dim, env.URL+"/registry/device", workers)
	if err != nil {
		panic(err)
	}
	env.Mux.HandleFunc("/pipeline", p.handleStats)
	p.run()

	c := newCollector(filepath.Join(root, "spool"), env.Factor)
	go env.Every(6, func() {
		if path, err := c.drop(); err == nil {
			p.arrivals <- path
		}
	})
	expose.Wait()
}

// sweepStale removes the temp trees of earlier runs that were killed before they
// could clean up (their process is gone).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "etlpipe-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), "etlpipe-"))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(d)
		}
	}
}

// shuttingDown is set once the temp tree is being removed.
var shuttingDown atomic.Bool

// watchExit removes the temp tree on a signal and just before the lifetime runs out.
func watchExit(cleanup func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		cleanup()
		os.Exit(0)
	}()
	if f := flag.Lookup("lifetime"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d > time.Second {
			time.AfterFunc(d-500*time.Millisecond, cleanup)
		}
	}
}
