package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The two services the gateway fronts run in this process on their own loopback
// listeners, so that every call crosses a real TCP connection.

// serveUpstream starts h on a fresh loopback port and returns its base URL.
func serveUpstream(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String()
}

type Account struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Email     string            `json:"email"`
	Tier      string            `json:"tier"`
	Locale    string            `json:"locale"`
	Since     time.Time         `json:"since"`
	Settings  map[string]string `json:"settings"`
	Addresses []Address         `json:"addresses"`
	Devices   []Device          `json:"devices"`

	Raw []byte `json:"-"` // the document as the accounts service sent it
}

type Address struct {
	Kind, Line1, Line2, City, Postcode, Country string
}

type Device struct {
	ID, Model, OS, PushToken string
	LastSeen                 time.Time
}

// accountsService is slow: a database behind it, with a long tail.
func accountsService() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /accounts/{id}", func(w http.ResponseWriter, r *http.Request) {
		d := time.Duration(6+rand.ExpFloat64()*14) * time.Millisecond
		if rand.IntN(100) < 4 {
			d += time.Duration(150+rand.IntN(250)) * time.Millisecond
		}
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		id := r.PathValue("id")
		n, _ := strconv.Atoi(id[1:])
		a := Account{ID: id, Name: fmt.Sprintf("Customer %d", n), Email: fmt.Sprintf("c%d@example.net", n),
			Tier: []string{"free", "plus", "pro"}[n%3], Locale: []string{"en-GB", "de-DE", "fr-FR", "pt-BR"}[n%4],
			Since:    time.Unix(1_500_000_000+int64(n)*7919, 0).UTC(),
			Settings: map[string]string{"theme": "dark", "digest": "weekly", "autoplay": strconv.FormatBool(n%2 == 0)}}
		for i, kind := range []string{"home", "billing", "work"} {
			a.Addresses = append(a.Addresses, Address{kind, fmt.Sprintf("%d Market Street", 10+n%90+i), "Flat " + strconv.Itoa(i+1),
				"Springfield", fmt.Sprintf("SP%04d", n%10000), "GB"})
		}
		for i := 0; i < 2+n%5; i++ {
			a.Devices = append(a.Devices, Device{fmt.Sprintf("d-%d-%d", n, i), "Pixel 9", "android-16",
				fmt.Sprintf("%064x", uint64(n)*2654435761+uint64(i)), time.Now().Add(-time.Duration(i) * time.Hour).UTC()})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	})
	return mux
}

type Item struct {
	SKU    string   `json:"sku"`
	Title  string   `json:"title"`
	Price  float64  `json:"price"`
	Score  float64  `json:"score"`
	Labels []string `json:"labels"`
	Image  string   `json:"image"`
}

// recsService is flaky: one shard of its index is down, it sheds load above a fixed
// concurrency, and it is redeployed every quarter minute, answering 503 for a few seconds
// each time.
func recsService(started time.Time) http.Handler {
	var inflight atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /recs/{id}", func(w http.ResponseWriter, r *http.Request) {
		t := time.Since(started).Seconds()
		switch m := int(t) % 15; {
		case m >= 2 && m < 4: // old instances draining: slow, then refused
			time.Sleep(600 * time.Millisecond)
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		case m >= 4 && m < 6: // new instances warming up
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		// one shard of the index is out: its users get a quick refusal
		if n, _ := strconv.Atoi(strings.TrimPrefix(r.PathValue("id"), "u")); n%10 == 7 {
			http.Error(w, "shard unavailable", http.StatusServiceUnavailable)
			return
		}
		if inflight.Add(1) > 6 {
			inflight.Add(-1)
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		defer inflight.Add(-1)
		if rand.IntN(100) < 3 {
			http.Error(w, "upstream index timeout", http.StatusBadGateway)
			return
		}
		time.Sleep(time.Duration(5+rand.IntN(20)) * time.Millisecond)
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n <= 0 || n > 200 {
			n = 40
		}
		seed := uint64(len(r.PathValue("id")))
		rng := rand.New(rand.NewPCG(seed, uint64(time.Now().UnixNano())))
		items := make([]Item, n)
		for i := range items {
			sku := fmt.Sprintf("SKU-%06d", rng.IntN(1_000_000))
			items[i] = Item{SKU: sku, Title: "Item " + sku, Price: float64(rng.IntN(20000)) / 100,
				Score: rng.Float64(), Labels: []string{"new", "deal", "popular"}[:1+rng.IntN(3)],
				Image: "https://img.example.net/" + sku + ".jpg"}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(items)
	})
	return mux
}
