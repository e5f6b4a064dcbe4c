package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// server is the blob service's HTTP API: whole uploads, multipart uploads, downloads,
// deletes, and a long poll for uploads to finish.
type server struct {
	bs        *blobStore
	peer      *peerClient
	replicate func(digest, path string)
	uploads   sync.Map // id -> *upload
	nextID    atomic.Int64
	stored    atomic.Int64
	done      *notifier

	keepParts     bool // finished multipart uploads stay registered
	progressWatch bool // each upload has a goroutine reporting its progress
	chunkCopy     bool // downloads copy each chunk into a fresh buffer
}

// upload is a multipart upload in progress: its parts, in memory until completed.
type upload struct {
	mu    sync.Mutex
	name  string
	parts map[int][]byte
	done  bool
}

func (s *server) routes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /blobs/{name...}", s.putBlob)
	mux.HandleFunc("GET /blobs/{name...}", s.getBlob)
	mux.HandleFunc("DELETE /blobs/{name...}", s.deleteBlob)
	mux.HandleFunc("POST /uploads", s.startUpload)
	mux.HandleFunc("PUT /uploads/{id}/{part}", s.putPart)
	mux.HandleFunc("POST /uploads/{id}/complete", s.complete)
	mux.HandleFunc("GET /uploads/wait", s.waitUploads)
	mux.HandleFunc("GET /status", s.status)
}

func code(err error) int {
	switch {
	case errors.Is(err, errDigest):
		return http.StatusUnprocessableEntity
	case errors.Is(err, errTooBig):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnknown):
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

func (s *server) putBlob(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var progress chan int64
	if s.progressWatch {
		progress = make(chan int64)
		go s.watch(name, progress)
	}
	tmp, digest, err := s.bs.receive(r.Body, r.Header.Get("Content-Digest"), progress)
	if err != nil {
		http.Error(w, err.Error(), code(err))
		return
	}
	if progress != nil {
		close(progress)
	}
	s.store(w, tmp, name, digest)
}

func (s *server) store(w http.ResponseWriter, tmp, name, digest string) {
	if err := s.bs.commit(tmp, name, digest, s.replicate); err != nil {
		os.Remove(tmp)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.done.publish(name)
	s.stored.Add(1)
	w.Header().Set("Content-Digest", digest)
	w.WriteHeader(http.StatusCreated)
}

// watch logs slow uploads: it follows the byte count until the upload ends.
func (s *server) watch(name string, progress <-chan int64) {
	start := time.Now()
	var last int64
	for n := range progress { // FAULT(goroutine-leak:progress-watch)
		last = n
	}
	if time.Since(start) > 5*time.Second {
		fmt.Fprintf(os.Stderr, "slow upload %s: %d bytes in %s\n", name, last, time.Since(start))
	}
}

func (s *server) getBlob(w http.ResponseWriter, r *http.Request) {
	f, digest, err := s.bs.open(r.PathValue("name"))
	if err != nil {
		http.Error(w, err.Error(), code(err))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Digest", digest)
	w.Header().Set("Content-Type", "application/octet-stream")
	if !s.chunkCopy {
		_, _ = io.Copy(w, f)
		return
	}
	for {
		chunk := make([]byte, 256<<10) // FAULT(gc-pressure:chunk-copy)
		n, err := f.Read(chunk)
		if n > 0 {
			if _, werr := w.Write(bytes.Clone(chunk[:n])); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (s *server) deleteBlob(w http.ResponseWriter, r *http.Request) {
	if !s.bs.remove(r.PathValue("name")) {
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) startUpload(w http.ResponseWriter, r *http.Request) {
	id := strconv.FormatInt(s.nextID.Add(1), 10)
	s.uploads.Store(id, &upload{name: r.URL.Query().Get("name"), parts: map[int][]byte{}})
	w.Header().Set("Location", "/uploads/"+id)
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, id)
}

func (s *server) putPart(w http.ResponseWriter, r *http.Request) {
	v, ok := s.uploads.Load(r.PathValue("id"))
	if !ok {
		http.NotFound(w, r)
		return
	}
	n, err := strconv.Atoi(r.PathValue("part"))
	if err != nil || n < 1 || n > 1000 {
		http.Error(w, "bad part number", http.StatusBadRequest)
		return
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBlob+1))
	if err != nil || len(data) > maxBlob {
		http.Error(w, "bad part", http.StatusBadRequest)
		return
	}
	u := v.(*upload)
	u.mu.Lock()
	u.parts[n] = data
	u.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) complete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	v, ok := s.uploads.Load(id)
	if !ok {
		http.NotFound(w, r)
		return
	}
	u := v.(*upload)
	u.mu.Lock()
	var all []io.Reader
	for n := 1; n <= len(u.parts); n++ {
		p, ok := u.parts[n]
		if !ok {
			u.mu.Unlock()
			http.Error(w, fmt.Sprintf("part %d missing", n), http.StatusBadRequest)
			return
		}
		all = append(all, bytes.NewReader(p))
	}
	u.mu.Unlock()
	tmp, digest, err := s.bs.receive(io.MultiReader(all...), r.Header.Get("Content-Digest"), nil)
	if err != nil {
		s.uploads.Delete(id) // the client starts over
		http.Error(w, err.Error(), code(err))
		return
	}
	if s.keepParts {
		// finished uploads stay registered so a retried complete finds its upload
		u.mu.Lock()
		u.done = true
		u.mu.Unlock()
		s.uploads.Store(id, u) // FAULT(memory-leak:kept-parts)
	} else {
		s.uploads.Delete(id)
	}
	s.store(w, tmp, u.name, digest)
}

// waitUploads is a long poll: it answers when the named blob is uploaded, or after 25 s.
func (s *server) waitUploads(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	ch := s.done.subscribe(name)
	defer s.done.unsubscribe(name, ch)
	select {
	case <-ch:
		w.WriteHeader(http.StatusOK)
	case <-time.After(25 * time.Second):
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
	}
}

func (s *server) status(w http.ResponseWriter, r *http.Request) {
	names, digests := s.bs.stats()
	s.bs.gcMu.Lock()
	removed := s.bs.removed
	s.bs.gcMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"names": names, "digests": digests,
		"stored": s.stored.Load(), "replicated": s.peer.sent.Load(), "removed": removed,
		"waiters": s.done.count()})
}

// notifier tells long-polling clients that the blob they wait for has arrived.
type notifier struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
}

func (n *notifier) subscribe(name string) chan struct{} {
	ch := make(chan struct{}, 1)
	n.mu.Lock()
	if n.subs[name] == nil {
		n.subs[name] = map[chan struct{}]struct{}{}
	}
	n.subs[name][ch] = struct{}{}
	n.mu.Unlock()
	return ch
}

func (n *notifier) unsubscribe(name string, ch chan struct{}) {
	n.mu.Lock()
	delete(n.subs[name], ch)
	if len(n.subs[name]) == 0 {
		delete(n.subs, name)
	}
	n.mu.Unlock()
}

func (n *notifier) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.subs {
		c += len(m)
	}
	return c
}

func (n *notifier) publish(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for ch := range n.subs[name] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
