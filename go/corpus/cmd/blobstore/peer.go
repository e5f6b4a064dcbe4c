package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The peer is the second copy of every blob: another store in this process behind its
// own listener. It answers 409 for a digest it already holds (content is deduplicated).
func startPeer() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var mu sync.Mutex
	have := map[string]int64{}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /replica/{digest}", func(w http.ResponseWriter, r *http.Request) {
		d := r.PathValue("digest")
		mu.Lock()
		_, dup := have[d]
		mu.Unlock()
		if dup {
			http.Error(w, "already held", http.StatusConflict)
			return
		}
		n, _ := io.Copy(io.Discard, r.Body)
		time.Sleep(25 * time.Millisecond) // across the link, to its disk
		mu.Lock()
		have[d] = n
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("DELETE /replica/{digest}", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(8 * time.Millisecond)
		mu.Lock()
		delete(have, r.PathValue("digest"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	go func() { _ = http.Serve(ln, mux) }()
	return "http://" + ln.Addr().String(), nil
}

type peerClient struct {
	base string
	http *http.Client
	sent atomic.Int64
}

func (p *peerClient) send(digest, path string) (*http.Response, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	req, err := http.NewRequest(http.MethodPut, p.base+"/replica/"+digest, f)
	if err != nil {
		return nil, err
	}
	return p.http.Do(req)
}

// replicate copies a blob to the peer; a 409 means the peer had it already.
func (p *peerClient) replicate(digest, path string) {
	resp, err := p.send(digest, path)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch resp.StatusCode {
	case http.StatusCreated:
		p.sent.Add(1)
	case http.StatusConflict:
	default:
		fmt.Fprintln(os.Stderr, "replica:", resp.Status)
	}
}

// replicateFirstOnly is the replicator older deployments run: anything but 201 ends it.
func (p *peerClient) replicateFirstOnly(digest, path string) {
	resp, err := p.send(digest, path)
	if err != nil {
		return
	}
	if resp.StatusCode != http.StatusCreated {
		return // FAULT(connection-leak:replica-conflict)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	p.sent.Add(1)
}

// drop tells the peer a blob is gone.
func (p *peerClient) drop(digest string) {
	req, err := http.NewRequest(http.MethodDelete, p.base+"/replica/"+digest, nil)
	if err != nil {
		return
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
