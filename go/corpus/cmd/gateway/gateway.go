package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

type gateway struct {
	cfg         settings
	accountsURL string
	recsURL     string
	client      *http.Client // account reads
	recsClient  *http.Client // recommendations: attempts time out at the transport
	cache       *ttlCache
	flights     *flightGroup
	recsBreaker *breaker
	watch       *sloWatch
}

func newGateway(cfg settings, accountsURL, recsURL string) *gateway {
	tr := &http.Transport{MaxIdleConns: 2 * cfg.idlePerHost, MaxIdleConnsPerHost: cfg.idlePerHost,
		IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 2 * time.Second}
	return &gateway{cfg: cfg, accountsURL: accountsURL, recsURL: recsURL,
		client: &http.Client{Transport: tr}, cache: newTTLCache(),
		recsClient: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.idlePerHost,
			IdleConnTimeout: 90 * time.Second, ResponseHeaderTimeout: 200 * time.Millisecond}},
		flights:     &flightGroup{calls: map[string]*flight{}, holdLock: cfg.lockedFlights},
		recsBreaker: &breaker{threshold: 5, cooldown: time.Second, probeLocked: cfg.probeLocked},
		watch:       &sloWatch{slo: 300 * time.Millisecond, live: map[uint64]context.CancelFunc{}, cancel: cfg.cancelWatchers}}
}

func (g *gateway) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/home/{user}", g.home)
	mux.HandleFunc("GET /app/settings/{user}", g.settings)
	mux.HandleFunc("GET /app/recs/{user}", g.recsOnly)
}

// warm opens connections to both upstreams before traffic arrives, so the first
// requests do not pay for the handshakes.
func (g *gateway) warm() {
	var wg sync.WaitGroup
	for i := 0; i < g.cfg.prewarm; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, _ = g.fetchAccount(context.Background(), g.client, fmt.Sprintf("u%d", i))
		}()
		go func() {
			defer wg.Done()
			resp, err := g.recsClient.Get(g.recsURL + "/recs/warm?n=1")
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "upstream answered " + strconv.Itoa(e.code) }

func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code == http.StatusServiceUnavailable || se.code == http.StatusBadGateway
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

type homeView struct {
	User     *Account `json:"user,omitempty"`
	Recs     any      `json:"recs"`
	Degraded []string `json:"degraded,omitempty"`
}

// home fans out to both upstreams and answers with whatever came back in time.
func (g *gateway) home(w http.ResponseWriter, r *http.Request) {
	id := g.watch.begin(r.URL.Path)
	defer g.watch.end(id)
	user := r.PathValue("user")
	ctx, cancel := context.WithTimeout(r.Context(), 450*time.Millisecond)
	defer cancel()

	key := "acct:" + user
	if g.cfg.rawCacheKey {
		key = "acct:" + r.URL.RequestURI() // FAULT(memory-leak:raw-cache-key)
	}
	type part struct {
		name string
		acct *Account
		recs any
		err  error
	}
	parts := make(chan part, 2)
	go func() {
		a, err := g.account(ctx, user, key)
		parts <- part{name: "user", acct: a, err: err}
	}()
	go func() {
		items, err := g.recs(ctx, user, 100)
		var view any
		if err == nil {
			view = g.project(items)
		}
		parts <- part{name: "recs", recs: view, err: err}
	}()
	var v homeView
	for got := 0; got < 2; got++ {
		select {
		case p := <-parts:
			if p.err != nil {
				v.Degraded = append(v.Degraded, p.name)
			}
			if p.acct != nil {
				v.User = p.acct
			}
			if p.recs != nil {
				v.Recs = p.recs
			}
		case <-ctx.Done():
			v.Degraded = append(v.Degraded, "timeout")
			got = 2
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (g *gateway) settings(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	a, err := g.fetchAccount(ctx, g.accountsClient(), r.PathValue("user"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("v") == "1" { // old app versions get the whole document
		_, _ = w.Write(a.Raw)
		return
	}
	_ = json.NewEncoder(w).Encode(a.Settings)
}

func (g *gateway) recsOnly(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 450*time.Millisecond)
	defer cancel()
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	items, err := g.recs(ctx, r.PathValue("user"), max(n, 10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(g.project(items))
}

// accountsClient is the client account reads go through.
func (g *gateway) accountsClient() *http.Client {
	if g.cfg.sharedClient {
		return g.client
	}
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}} // FAULT(connection-leak:client-per-call)
}

func (g *gateway) account(ctx context.Context, user, key string) (*Account, error) {
	if a, ok := g.cache.get(key); ok {
		return a, nil
	}
	a, err := g.flights.do(key, func() (*Account, error) {
		if g.cfg.hedgeAfter > 0 {
			return g.hedgedAccount(ctx, user)
		}
		return g.fetchAccount(ctx, g.client, user)
	})
	if err == nil {
		g.cache.put(key, a, 20*time.Second)
	}
	return a, err
}

// hedgedAccount sends a second read when the first is slower than usual and takes
// whichever answers first; the loser is cancelled.
func (g *gateway) hedgedAccount(ctx context.Context, user string) (*Account, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		a   *Account
		err error
	}
	results := make(chan result, 2)
	send := func() {
		go func() {
			a, err := g.fetchAccount(ctx, g.client, user)
			results <- result{a, err}
		}()
	}
	send()
	select {
	case r := <-results:
		return r.a, r.err
	case <-time.After(g.cfg.hedgeAfter):
		send()
	}
	r := <-results
	if r.err != nil {
		r = <-results
	}
	return r.a, r.err
}

func (g *gateway) fetchAccount(ctx context.Context, c *http.Client, user string) (*Account, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", g.accountsURL+"/accounts/"+user, nil)
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, &statusError{resp.StatusCode}
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	a := Account{Raw: raw}
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// recs reads recommendations, retrying what the recommendations service says is
// transient.
func (g *gateway) recs(ctx context.Context, user string, n int) ([]Item, error) {
	for attempt := 0; ; attempt++ { // FAULT(cpu-saturation:retry-storm)
		var items []Item
		err := g.recsBreaker.do(func() error {
			var err error
			items, err = g.recsOnce(user, n)
			return err
		})
		if err == nil {
			return items, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !g.cfg.backoff {
			continue // the caller's deadline bounds the retries
		}
		if !retryable(err) || attempt == 2 {
			return nil, err
		}
		d := time.Duration(float64(20*time.Millisecond<<attempt) * (0.5 + rand.Float64()))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (g *gateway) recsOnce(user string, n int) ([]Item, error) {
	resp, err := g.recsClient.Get(fmt.Sprintf("%s/recs/%s?n=%d", g.recsURL, user, n))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		if g.cfg.closeErrorBody {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return nil, &statusError{resp.StatusCode} // FAULT(connection-leak:unclosed-error-body)
	}
	defer resp.Body.Close()
	var items []Item
	if err := json.NewDecoder(resp.Body).Decode(&items); err != nil {
		return nil, err
	}
	return items, nil
}

// cardView is what the app renders for one recommendation.
type cardView struct {
	SKU   string  `json:"sku"`
	Title string  `json:"title"`
	Price float64 `json:"price"`
	Image string  `json:"image"`
}

var cardFields = []string{"sku", "title", "price", "image"}

// project trims items to the fields the app shows.
func (g *gateway) project(items []Item) any {
	if !g.cfg.genericMerge {
		out := make([]cardView, len(items))
		for i, it := range items {
			out[i] = cardView{it.SKU, it.Title, it.Price, it.Image}
		}
		return out
	}
	// field masks applied generically, whatever the upstream's schema
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		raw, _ := json.Marshal(it)
		var m map[string]any
		_ = json.Unmarshal(raw, &m) // FAULT(gc-pressure:generic-merge)
		card := map[string]any{}
		for _, f := range cardFields {
			if v, ok := m[f]; ok {
				card[f] = fmt.Sprint(v)
			}
		}
		out = append(out, card)
	}
	return out
}
