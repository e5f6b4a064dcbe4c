package main

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"godiag.corpus/internal/expose"
)

// runApp is the mobile app's traffic: requests arrive on their own (open loop), each
// in its own goroutine, whatever the gateway's latency. Users follow a skewed
// popularity: a few are very active.
func runApp(e *expose.Env, base string) {
	c := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.1, 4, 1999)
	next := make(chan string, 64)
	go func() {
		for {
			next <- fmt.Sprintf("u%d", zipf.Uint64())
		}
	}()
	e.Every(70, func() {
		user := <-next
		var path string
		switch r := rand.IntN(100); {
		case r < 75:
			// the app busts intermediary caches with a timestamp
			path = fmt.Sprintf("/app/home/%s?_t=%d", user, time.Now().UnixNano())
		case r < 90:
			path = "/app/settings/" + user + "?v=" + []string{"1", "2", "2"}[rand.IntN(3)]
		default:
			path = fmt.Sprintf("/app/recs/%s?n=%d", user, 10+int(math.Round(rand.Float64()*30)))
		}
		go func() {
			resp, err := c.Get(base + path)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	})
}
