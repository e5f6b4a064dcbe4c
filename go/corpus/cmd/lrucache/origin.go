package main

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

var errMissing = errors.New("origin: no such object")

// The origin is the slow system of record the cache fronts: another HTTP server in this
// process (its own listener), answering in a few milliseconds with a long tail, and 404
// for the objects that were never written.
func startOrigin() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /objects/{key}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		time.Sleep(originLatency())
		sum := crc32.ChecksumIEEE([]byte(key))
		if sum%11 == 0 {
			http.Error(w, "no such object", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(objectBytes(sum))
	})
	go func() { _ = http.Serve(ln, mux) }()
	return "http://" + ln.Addr().String(), nil
}

// originLatency: mostly 4-20 ms, one in twenty between 150 and 400 ms (a cold disk).
func originLatency() time.Duration {
	if rand.IntN(20) == 0 {
		return time.Duration(150+rand.IntN(250)) * time.Millisecond
	}
	return time.Duration(4+rand.IntN(16)) * time.Millisecond
}

// objectBytes is an object's content, a deterministic function of its key's checksum:
// 256 B to 6 KiB.
func objectBytes(sum uint32) []byte {
	n := 256 + int(sum%5888)
	b := make([]byte, n)
	x := uint64(sum) | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

type originClient struct {
	base string
	http *http.Client
}

func (o *originClient) fetch(key string) ([]byte, error) {
	resp, err := o.http.Get(o.base + "/objects/" + key)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return io.ReadAll(resp.Body)
	case http.StatusNotFound:
		_, _ = io.Copy(io.Discard, resp.Body) // lets the transport reuse the connection
		return nil, errMissing
	}
	return nil, fmt.Errorf("origin: %s", resp.Status)
}

// fetchStrict is the first version of fetch, kept by the deployments that treat any
// non-200 as an error before looking at the body.
func (o *originClient) fetchStrict(key string) ([]byte, error) {
	resp, err := o.http.Get(o.base + "/objects/" + key)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, errMissing // FAULT(connection-leak:missing-body)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("origin: %s", resp.Status)
	}
	return io.ReadAll(resp.Body)
}
