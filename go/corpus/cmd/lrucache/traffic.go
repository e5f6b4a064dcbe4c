package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"godiag.corpus/internal/expose"
)

// The clients: a pool of connections issuing GETs and PUTs with Zipf-skewed keys at the
// deployment's rate, a dashboard polling the stats page, and, where configured, a
// publisher that invalidates the hottest objects and re-reads them all at once.
var requestSeq atomic.Int64

type client struct {
	base string
	http *http.Client
	rng  *rand.Rand
	zipf *rand.Zipf
	d    deployment
}

func drive(e *expose.Env, d deployment, c *cache) {
	hc := &http.Client{Timeout: 3 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
	work := make(chan struct{}, 64)
	for i := 0; i < 40; i++ {
		rng := rand.New(rand.NewSource(int64(i) + 1))
		cl := &client{base: e.URL, http: hc, rng: rng, zipf: rand.NewZipf(rng, d.skew, 1, d.keys-1), d: d}
		go func() {
			for range work {
				cl.once()
			}
		}()
	}
	go func() {
		for range time.Tick(2 * time.Second) {
			if resp, err := hc.Get(e.URL + "/v1/stats"); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}()
	if d.purges {
		go publisher(e.URL, hc, c)
	}
	e.Every(d.perSec, func() {
		select {
		case work <- struct{}{}:
		default: // every client busy: this request is not made
		}
	})
}

func (cl *client) once() {
	key := "obj-" + strconv.FormatUint(cl.zipf.Uint64(), 10)
	var req *http.Request
	if cl.rng.Float64() < cl.d.writes {
		body := make([]byte, 1024+cl.rng.Intn(cl.d.putSize-1023))
		cl.rng.Read(body)
		req, _ = http.NewRequest(http.MethodPut, cl.base+"/v1/objects/"+key, bytes.NewReader(body))
		req.Header.Set("Idempotency-Key", fmt.Sprintf("w-%d-%d", cl.rng.Int63(), time.Now().UnixNano()))
	} else {
		req, _ = http.NewRequest(http.MethodGet, cl.base+"/v1/objects/"+key, nil)
	}
	req.Header.Set("X-Request-Id", "req-"+strconv.FormatInt(requestSeq.Add(1), 36))
	resp, err := cl.http.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// publisher stands for the content system: every four seconds it republishes the 40
// hottest objects (purging them) and 200 readers ask for them at once.
func publisher(base string, hc *http.Client, c *cache) {
	for range time.Tick(4 * time.Second) {
		for i := 0; i < 40; i++ {
			c.purge("obj-" + strconv.Itoa(i))
		}
		for i := 0; i < 200; i++ {
			go func(k int) {
				resp, err := hc.Get(base + "/v1/objects/obj-" + strconv.Itoa(k))
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}(i % 40)
		}
	}
}
