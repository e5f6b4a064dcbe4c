// linekv: a small Redis-like key-value server speaking a line protocol over raw TCP
// (GET, SET, DEL, EXPIRE, SCAN, PING, QUIT) with active expiry, used by an in-process
// application: session workers on a connection pool, a reporting job scanning the
// profile keyspace, and a health checker dialling in.
package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"time"

	"godiag.corpus/internal/expose"
)

type setup struct {
	q            quirks
	poolMax      int
	warm         int
	profiles     int
	profileBytes int
	spinPool     bool
	scanDials    bool
	touchNoTTL   bool
}

func variants() map[string]setup {
	base := setup{poolMax: 3, profiles: 20000, profileBytes: 100}
	with := func(f func(*setup)) setup { s := base; f(&s); return s }
	return map[string]setup{
		"steady":             base,
		"pooled-idle":        with(func(s *setup) { s.poolMax, s.warm = 320, 300 }),
		"big-keyspace":       with(func(s *setup) { s.profiles, s.profileBytes = 300000, 400 }),
		"dial-per-scan":      with(func(s *setup) { s.scanDials = true }),
		"scan-flush-locked":  with(func(s *setup) { s.q.flushScanLocked = true }),
		"touch-drops-ttl":    with(func(s *setup) { s.touchNoTTL = true }),
		"writer-left-behind": with(func(s *setup) { s.q.writerOnlyQuit = true }),
		"rlock-upgrade":      with(func(s *setup) { s.q.sweepUpgrade = true }),
		"pool-spin":          with(func(s *setup) { s.spinPool = true }),
		"scan-concat":        with(func(s *setup) { s.q.concatScan = true }),
	}
}

func main() {
	all := variants()
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	env := expose.Start("linekv", names...)
	runtime.SetMutexProfileFraction(10)
	cfg := all[env.Variant]

	srv := &server{q: cfg.q, kv: newStore()}
	pad := strings.Repeat("p", cfg.profileBytes)
	for i := 0; i < cfg.profiles; i++ {
		srv.kv.set(fmt.Sprintf("profile:%07d", i), fmt.Sprintf("u%d|%s", i, pad))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "linekv:", err)
		os.Exit(1)
	}
	go srv.serve(ln)
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			srv.kv.sweep(500, cfg.q.sweepUpgrade)
		}
	}()

	a := &app{env: env, addr: ln.Addr().String(), cfg: cfg,
		pool: newPool(ln.Addr().String(), cfg.poolMax, 100, cfg.spinPool)}
	a.start()
	expose.Wait()
}
