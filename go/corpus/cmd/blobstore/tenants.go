package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"godiag.corpus/internal/expose"
)

// tenancy is who uses the store: tenants uploading on their own clocks, readers, a
// cleaner, and where configured long-pollers and a backup job.
type tenancy struct {
	tenants   int
	perTenant float64 // uploads a second each, at intensity 1
	reads     float64 // downloads a second
	deletes   float64 // deletes a second
	pollers   int     // clients long-polling for the nightly export
	backups   int     // blobs the backup job sends at once every 5 s
}

// common is content many tenants upload (the same installer, the same logo).
var common = func() [][]byte {
	var out [][]byte
	for i := 0; i < 8; i++ {
		b := make([]byte, 16<<10+i*4096)
		for k := range b {
			b[k] = byte(i*31 + k%251)
		}
		out = append(out, b)
	}
	return out
}()

func tenants(e *expose.Env, t tenancy) {
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	for i := 0; i < t.tenants; i++ {
		go tenant(e, hc, i, t.perTenant)
	}
	go e.Every(t.deletes, func() {
		name := fmt.Sprintf("t%d/f%d", rand.IntN(t.tenants), rand.IntN(64))
		req, _ := http.NewRequest(http.MethodDelete, e.URL+"/blobs/"+name, nil)
		do(hc, req)
	})
	reads := make(chan string, 32)
	for i := 0; i < 16; i++ {
		go func() {
			for name := range reads {
				req, _ := http.NewRequest(http.MethodGet, e.URL+"/blobs/"+name, nil)
				do(hc, req)
			}
		}()
	}
	for i := 0; i < t.pollers; i++ {
		go func(i int) {
			for {
				req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/uploads/wait?name=export/%d", e.URL, i%20), nil)
				do(hc, req)
			}
		}(i)
	}
	if t.backups > 0 {
		go backupJob(e, hc, t.backups)
	}
	e.Every(t.reads, func() {
		select {
		case reads <- fmt.Sprintf("t%d/f%d", rand.IntN(t.tenants), rand.IntN(64)):
		default:
		}
	})
}

func do(hc *http.Client, req *http.Request) int {
	resp, err := hc.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// tenant uploads on its own clock: mostly whole blobs, one in five in parts; some
// content is shared with other tenants, and its client now and then announces the
// digest of the previous file instead of this one.
func tenant(e *expose.Env, hc *http.Client, id int, perSec float64) {
	r := rand.New(rand.NewPCG(uint64(id), 5))
	prevDigest := ""
	for {
		time.Sleep(time.Duration(float64(time.Second) * r.ExpFloat64() / (perSec * e.Factor())))
		var data []byte
		if r.IntN(4) == 0 {
			data = common[r.IntN(len(common))]
		} else {
			data = make([]byte, 8<<10+r.IntN(1016<<10))
			for k := 0; k < len(data); k += 8 {
				data[k] = byte(r.Uint32())
			}
		}
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])
		announce := digest
		if r.IntN(25) == 0 && prevDigest != "" {
			announce = prevDigest
		}
		prevDigest = digest
		name := fmt.Sprintf("t%d/f%d", id, r.IntN(64))
		if r.IntN(5) == 0 {
			multipart(e.URL, hc, name, data, announce)
			continue
		}
		req, _ := http.NewRequest(http.MethodPut, e.URL+"/blobs/"+name, bytes.NewReader(data))
		req.Header.Set("Content-Digest", announce)
		do(hc, req)
	}
}

func multipart(base string, hc *http.Client, name string, data []byte, digest string) {
	resp, err := hc.Post(base+"/uploads?name="+name, "", nil)
	if err != nil {
		return
	}
	idb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	id := strings.TrimSpace(string(idb))
	part := 96 << 10
	for n, off := 1, 0; off < len(data); n, off = n+1, off+part {
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/uploads/%s/%d", base, id, n),
			bytes.NewReader(data[off:min(off+part, len(data))]))
		do(hc, req)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/uploads/"+id+"/complete", nil)
	req.Header.Set("Content-Digest", digest)
	do(hc, req)
}

// backupJob sends n small blobs at once every five seconds and waits for them all.
func backupJob(e *expose.Env, hc *http.Client, n int) {
	for round := 0; ; round++ {
		time.Sleep(5 * time.Second)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := bytes.Repeat([]byte{byte(i), byte(round)}, 2048+i)
				req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/blobs/backup/%d", e.URL, i), bytes.NewReader(body))
				do(hc, req)
			}(i)
		}
		wg.Wait()
	}
}
