package main

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"godiag.corpus/internal/expose"
)

var symbols = []string{"EURUSD", "USDJPY", "GBPUSD", "AUDUSD", "USDCHF", "NZDUSD", "USDCAD", "EURGBP",
	"EURJPY", "GBPJPY", "XAUUSD", "XAGUSD", "BTCUSD", "ETHUSD", "SPX", "NDX", "DAX", "FTSE", "NKY",
	"HSI", "BRENT", "WTI", "NATGAS", "COPPER"}
var regions = []string{"eu", "us", "apac", "latam", "mena", "uk", "ca", "in"}

// deployment wires the broker to its producers and consumers.
type deployment struct {
	env            *expose.Env
	b              *broker
	idleFleet      bool // thousands of alert subscribers on topics that rarely fire
	leaveOnFailure bool // a session whose handshake fails returns without unsubscribing
	keepHookBodies bool // webhook responses are checked by status and not read or closed

	hooks      http.Client
	sessionSeq atomic.Uint64
	processed  atomic.Int64
	deadLetter atomic.Int64
}

func (d *deployment) start() {
	d.hooks = http.Client{Timeout: 5 * time.Second}
	d.env.Mux.HandleFunc("POST /hooks/{name}", d.hookEndpoint)
	for _, s := range symbols {
		for i := 0; i < 5; i++ {
			d.standing("px."+s, 64, nil)
		}
	}
	for _, r := range regions {
		for i := 0; i < 4; i++ {
			d.standing("orders."+r, 64, nil)
		}
	}
	// the archiver writes every EU order to storage and cannot keep up at peak
	d.standing("orders.eu", 128, func(*message) { time.Sleep(40 * time.Millisecond) })
	d.standing("orders.us", 256, d.postHook)
	if d.idleFleet {
		for i := 0; i < 2400; i++ {
			d.standing(fmt.Sprintf("alerts.%d", i%600), 16, nil)
		}
		go d.env.Every(2, func() {
			d.b.Publish(fmt.Sprintf("alerts.%d", rand.IntN(600)), "alert", []byte(`{"level":"warn"}`))
		})
	}
	for i := 0; i < 6; i++ {
		go d.env.Every(120, d.publishTick)
	}
	go d.env.Every(8, func() { go d.session() })
	go d.env.Every(3, func() { // late joiners read back the recent past
		_ = d.b.Replay("px."+symbols[rand.IntN(len(symbols))], 500)
	})
}

// publishTick publishes one price or order update; one in forty is malformed.
func (d *deployment) publishTick() {
	var topic string
	if rand.IntN(10) < 6 {
		topic = "px." + symbols[rand.IntN(len(symbols))]
	} else if rand.IntN(2) == 0 {
		topic = "orders.eu"
	} else {
		topic = "orders." + regions[rand.IntN(len(regions))]
	}
	key := fmt.Sprintf("k%d", rand.IntN(10000))
	if rand.IntN(40) == 0 {
		key = "!" + key
	}
	n := 500 + rand.IntN(2000)
	body := make([]byte, 0, n+64)
	body = fmt.Appendf(body, `{"key":%q,"px":%.5f,"qty":%d,"pad":"`, key, 1+rand.Float64(), rand.IntN(1e6))
	for len(body) < n {
		body = append(body, 'a'+byte(rand.IntN(26)))
	}
	body = append(body, `"}`...)
	d.b.Publish(topic, key, body)
}

// standing starts a consumer that lives as long as the process.
func (d *deployment) standing(topic string, depth int, handle func(*message)) {
	s := d.b.Subscribe(topic, depth)
	if handle == nil {
		handle = d.check
	}
	go s.consume(handle, nil)
}

func (d *deployment) check(m *message) {
	_ = crc32.ChecksumIEEE(m.Body)
	d.processed.Add(1)
}

// session is a client that follows a topic for a second or two.
func (d *deployment) session() {
	id := d.sessionSeq.Add(1)
	topic := "px." + symbols[rand.IntN(len(symbols))]
	sub := d.b.Subscribe(topic, 32)
	go sub.consume(func(m *message) {
		if strings.HasPrefix(m.Key, "!") { // malformed: park it for inspection
			d.deadLetter.Add(1)
			d.b.Publish("deadletter", m.Key, m.Body)
			return
		}
		d.check(m)
	}, func() { // let the room know this client left
		d.b.Publish("presence."+topic, "left", fmt.Appendf(nil, `{"session":%d}`, id))
	})
	if err := handshake(id); err != nil {
		if d.leaveOnFailure {
			return // FAULT(goroutine-leak:abandoned-session)
		}
		d.b.Unsubscribe(sub)
		return
	}
	time.Sleep(time.Duration(500+rand.IntN(1500)) * time.Millisecond)
	d.b.Unsubscribe(sub)
}

// handshake: about one client in five presents an expired token.
func handshake(id uint64) error {
	time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	if id%5 == 3 {
		return fmt.Errorf("session %d: token expired", id)
	}
	return nil
}

// postHook delivers a message to a partner's webhook.
func (d *deployment) postHook(m *message) {
	url := fmt.Sprintf("%s/hooks/partner-%d", d.env.URL, m.Seq%4)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(m.Body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := d.hooks.Do(req) // FAULT(connection-leak:webhook-body)
	if err != nil {
		return
	}
	if d.keepHookBodies {
		if resp.StatusCode != http.StatusOK {
			d.deadLetter.Add(1)
		}
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.deadLetter.Add(1)
	}
}

var hookAcks atomic.Int64

func (d *deployment) hookEndpoint(w http.ResponseWriter, r *http.Request) {
	n, _ := io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"accepted":%d,"partner":%q,"ack":%d}`, n, r.PathValue("name"), hookAcks.Add(1))
}
