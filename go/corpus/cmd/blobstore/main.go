// blobstore stores blobs on local disk: whole and multipart uploads with SHA-256
// checksums, content-addressed files renamed in from temp files, downloads, deletes, a
// compactor removing files no name points at, a replica peer, long polls for arrivals.
// Tenants upload, read and delete through its HTTP API from inside the process.
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"godiag.corpus/internal/expose"
)

func main() {
	e := expose.Start("blobstore", "steady", "long-poll", "backup-burst",
		"kept-parts", "read-back", "progress-watch", "replica-conflict", "replicate-in-index",
		"compact-order", "chunk-copy")
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(int(100 * time.Microsecond))

	sweepStale()
	bs, err := newBlobStore()
	if err != nil {
		fmt.Fprintln(os.Stderr, "blobstore:", err)
		os.Exit(1)
	}
	removeAtExit(bs.root)
	peerURL, err := startPeer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "blobstore: peer:", err)
		os.Exit(1)
	}
	peer := &peerClient{base: peerURL, http: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	s := &server{bs: bs, peer: peer, replicate: peer.replicate,
		done: &notifier{subs: map[string]map[chan struct{}]struct{}{}}}
	bs.dropReplica = peer.drop
	load := tenancy{tenants: 12, perTenant: 2, reads: 90, deletes: 2}
	compact := bs.compact

	switch e.Variant {
	case "long-poll":
		load.pollers = 400
	case "backup-burst":
		load.backups = 300
	case "kept-parts":
		s.keepParts = true
	case "read-back":
		bs.verifyEachWrite = true
	case "progress-watch":
		s.progressWatch = true
	case "replica-conflict":
		s.replicate = peer.replicateFirstOnly
	case "replicate-in-index":
		bs.replicateUnderIndex = true
	case "compact-order":
		compact = bs.compactHeld
	case "chunk-copy":
		s.chunkCopy = true
	}
	s.routes(e.Mux)
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			compact()
		}
	}()
	go tenants(e, load)
	expose.Wait()
}

// sweepStale removes the directories of earlier runs whose process is gone.
func sweepStale() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "blobstore-*"))
	for _, d := range old {
		owner, err := os.ReadFile(filepath.Join(d, "owner"))
		if err != nil { // half removed, or never started: gone once it is a while old
			if info, err := os.Stat(d); err == nil && time.Since(info.ModTime()) > 10*time.Minute {
				_ = os.RemoveAll(d)
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(owner)))
		if err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(d)
		}
	}
}

// removeAtExit records the owner and deletes the store when the process is told to stop
// and just before the lifetime ends (the lifetime timer exits without deferred calls).
func removeAtExit(dir string) {
	_ = os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(os.Getpid())), 0o644)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		_ = os.RemoveAll(dir)
		os.Exit(0)
	}()
	if f := flag.Lookup("lifetime"); f != nil {
		if life, ok := f.Value.(flag.Getter).Get().(time.Duration); ok && life > time.Second {
			time.AfterFunc(life-500*time.Millisecond, func() { _ = os.RemoveAll(dir) })
		}
	}
}
