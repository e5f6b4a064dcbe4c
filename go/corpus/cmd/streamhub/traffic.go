package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"godiag.corpus/internal/expose"
)

var regions = []string{"eu", "us", "ap"}

// startTraffic runs everything that talks to the hub: the notifier, browser tabs, long
// pollers and the regional mirrors.
func startTraffic(e *expose.Env, h *hub, edge string) {
	streams := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	polls := &http.Client{Timeout: 35 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512}}

	go e.Every(60, func() { h.publish(fmt.Sprintf("prices.g%02d", rand.IntN(20)), "book", priceBook()) })
	go e.Every(12, func() {
		postEvent(polls, edge, fmt.Sprintf("orders.%s.%d", regions[rand.IntN(3)], rand.IntN(400)), "status")
	})
	go func() {
		for {
			time.Sleep(time.Duration(1500+rand.IntN(4000)) * time.Millisecond)
			postEvent(polls, edge, "region."+regions[rand.IntN(3)], "announcement")
		}
	}()
	if h.m.repricing {
		go e.Every(0.1, func() { reprice(h) })
	}

	// phones on a poor link: a small receive window, read slowly
	mobile := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}).DialContext}}
	n := int(float64(h.m.browsers) * e.Intensity)
	for i := 0; i < n; i++ {
		if i%10 == 0 {
			go browser(edge, mobile, true)
		} else {
			go browser(edge, streams, false)
		}
	}
	for i := 0; i < 6; i++ {
		m := &mirror{base: edge, region: regions[i%3], client: streams, closeStale: h.m.closeStale}
		go m.run()
	}
	p := int(float64(h.m.pollers) * e.Intensity)
	quiet := h.m.pollers > 1000
	for i := 0; i < p; i++ {
		go func() {
			time.Sleep(time.Duration(rand.IntN(1500)) * time.Millisecond)
			poller(edge, polls, i, quiet)
		}()
	}
}

// priceBook is one order-book snapshot, about a kilobyte of JSON.
func priceBook() []byte {
	type level struct {
		Px  float64 `json:"px"`
		Qty int     `json:"qty"`
	}
	mid := 100 + rand.Float64()*50
	book := struct {
		Bids []level `json:"bids"`
		Asks []level `json:"asks"`
		TS   int64   `json:"ts"`
	}{TS: time.Now().UnixMilli()}
	for i := 0; i < 12; i++ {
		book.Bids = append(book.Bids, level{mid - float64(i)*0.05, 1 + rand.IntN(900)})
		book.Asks = append(book.Asks, level{mid + float64(i)*0.05, 1 + rand.IntN(900)})
	}
	b, _ := json.Marshal(book)
	return b
}

func postEvent(c *http.Client, base, topic, kind string) {
	body := fmt.Sprintf(`{"topic":%q,"at":%d,"note":"%s"}`, topic, time.Now().UnixMilli(), strings.Repeat("x", rand.IntN(200)))
	resp, err := c.Post(base+"/publish/"+topic+"?kind="+kind, "application/json", strings.NewReader(body))
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// browser is one tab: it opens a stream, reads it for a while, closes, comes back.
func browser(edge string, c *http.Client, slow bool) {
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Millisecond)
	for {
		topics := []string{fmt.Sprintf("prices.g%02d", rand.IntN(20)), fmt.Sprintf("prices.g%02d", rand.IntN(20)),
			"orders." + regions[rand.IntN(3)] + ".*", "region.#"}
		if slow { // the market overview page
			topics = []string{"prices.*", "region.#"}
		}
		life := time.Duration(5+rand.IntN(25)) * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), life)
		req, _ := http.NewRequestWithContext(ctx, "GET", edge+"/events?topics="+strings.Join(topics, ","), nil)
		req.Header.Set("Accept", "text/event-stream")
		if resp, err := c.Do(req); err == nil {
			rd := bufio.NewReader(resp.Body)
			for {
				line, err := rd.ReadSlice('\n')
				if err != nil {
					break
				}
				if slow && bytes.HasPrefix(line, []byte("data:")) {
					time.Sleep(40 * time.Millisecond)
				}
			}
			resp.Body.Close()
		}
		cancel()
		time.Sleep(time.Duration(300+rand.IntN(1500)) * time.Millisecond)
	}
}

// poller long-polls one topic at a time, as older clients and the mobile app do.
func poller(edge string, c *http.Client, i int, quiet bool) {
	var after uint64
	topic := fmt.Sprintf("orders.%s.%d", regions[i%3], rand.IntN(400))
	if quiet {
		topic = fmt.Sprintf("account.%d", i) // a user's own notifications: rare
	}
	for {
		resp, err := c.Get(fmt.Sprintf("%s/poll/%s?after=%d", edge, topic, after))
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		if resp.StatusCode == http.StatusOK {
			var evs []struct {
				ID uint64 `json:"id"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&evs)
			if len(evs) > 0 {
				after = evs[len(evs)-1].ID
			}
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if !quiet && rand.IntN(8) == 0 {
			topic = fmt.Sprintf("orders.%s.%d", regions[i%3], rand.IntN(400))
			after = 0
		}
		time.Sleep(time.Duration(50+rand.IntN(200)) * time.Millisecond)
	}
}

// reprice recomputes every price group at once: one goroutine per group and tier,
// each asking the pricing engine, then publishing the new book.
func reprice(h *hub) {
	var wg sync.WaitGroup
	for g := 0; g < 20; g++ {
		for tier := 0; tier < 25; tier++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(50+rand.IntN(400)) * time.Millisecond)
				if tier == 0 {
					h.publish(fmt.Sprintf("prices.g%02d", g), "reprice", priceBook())
				}
			}()
		}
	}
	wg.Wait()
}

// mirror follows a region's announcements as a peer hub would, reconnecting when the
// stream has been quiet for too long (proxies drop idle streams silently).
type mirror struct {
	base       string
	region     string
	client     *http.Client
	closeStale bool
	seen       int
}

type stream struct {
	body  io.ReadCloser
	lines chan string
}

func (m *mirror) open() (*stream, error) {
	resp, err := m.client.Get(m.base + "/events?topics=region." + m.region)
	if err != nil {
		return nil, err
	}
	st := &stream{body: resp.Body, lines: make(chan string, 16)}
	go func() {
		defer close(st.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			st.lines <- sc.Text()
		}
	}()
	return st, nil
}

func (m *mirror) run() {
	var st *stream
	for {
		if st != nil && m.closeStale {
			st.body.Close()
			for range st.lines { // let the reader finish
			}
		}
		var err error
		st, err = m.open() // FAULT(connection-leak:stale-mirror)
		if err != nil {
			st = nil
			time.Sleep(time.Second)
			continue
		}
		m.follow(st)
	}
}

// follow reads until the stream ends or nothing but keep-alives came for 3 s.
func (m *mirror) follow(st *stream) {
	idle := time.NewTimer(3 * time.Second)
	defer idle.Stop()
	for {
		select {
		case line, ok := <-st.lines:
			if !ok {
				return
			}
			if strings.HasPrefix(line, "data:") {
				m.seen++
				idle.Reset(3 * time.Second)
			}
		case <-idle.C:
			return
		}
	}
}
