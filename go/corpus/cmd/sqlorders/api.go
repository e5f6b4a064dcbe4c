package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type api struct {
	st      *store
	prices  *priceBook
	bill    *billing
	mail    *mailer
	events  chan int64 // placed orders, for the webhook workers
	listing func(ctx context.Context, customer, limit int) ([]order, error)

	asyncReceipts bool // receipts are sent by a goroutine that waits for the commit
	textCatalog   bool // the catalog is written by hand rather than encoded
	keepHistory   bool // sessions keep the rendered listings for the old web client

	sessMu   sync.Mutex
	sessions map[int]*session
}

// session is what the shop remembers of a signed-in customer between requests.
type session struct {
	lastSeen time.Time
	shown    []int64  // the orders on the last listing, for "mark as seen"
	pages    [][]byte // rendered listings, for the back button of the old web client
}

func (a *api) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/customers/{id}/orders", a.customerOrders)
	mux.HandleFunc("GET /api/customers/{id}/invoices", a.invoices)
	mux.HandleFunc("GET /api/orders/{id}", a.oneOrder)
	mux.HandleFunc("POST /api/orders", a.placeOrder)
	mux.HandleFunc("GET /api/catalog", a.catalog)
	mux.HandleFunc("GET /api/reports/top-products", a.topProducts)
	mux.HandleFunc("GET /api/health", a.health)
}

var conflicts, failures atomic.Int64

func (a *api) health(w http.ResponseWriter, r *http.Request) {
	st := a.st.db.Stats()
	writeJSON(w, map[string]any{"open": st.OpenConnections, "in_use": st.InUse, "idle": st.Idle,
		"wait_count": st.WaitCount, "wait_ms": st.WaitDuration.Milliseconds(),
		"conflicts": conflicts.Load(), "failures": failures.Load(), "receipts": a.mail.sent.Load()})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, errUnderReview), errors.Is(err, errNoStock):
		code = http.StatusConflict
		conflicts.Add(1)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		code = http.StatusServiceUnavailable
	}
	if code != http.StatusConflict {
		failures.Add(1)
	}
	http.Error(w, err.Error(), code)
}

func (a *api) customerOrders(w http.ResponseWriter, r *http.Request) {
	cust, _ := strconv.Atoi(r.PathValue("id"))
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	orders, err := a.listing(ctx, cust, 20)
	if err != nil {
		fail(w, err)
		return
	}
	for k := range orders { // today's price next to what was paid
		for j := range orders[k].Items {
			orders[k].Items[j].Now = a.prices.price(ctx, orders[k].Items[j].Product)
		}
	}
	page, err := json.Marshal(orders)
	if err != nil {
		fail(w, err)
		return
	}
	a.remember(cust, orders, page)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(page)
}

func (a *api) remember(cust int, orders []order, page []byte) {
	a.sessMu.Lock()
	defer a.sessMu.Unlock()
	s := a.sessions[cust]
	if s == nil {
		s = &session{}
		a.sessions[cust] = s
	}
	s.lastSeen = time.Now()
	if a.keepHistory {
		s.pages = append(s.pages, page) // FAULT(memory-leak:view-history)
	}
	s.shown = s.shown[:0]
	for _, o := range orders {
		s.shown = append(s.shown, o.ID)
	}
}

// expireSessions forgets customers idle for a minute.
func (a *api) expireSessions() {
	for range time.Tick(5 * time.Second) {
		a.sessMu.Lock()
		for id, s := range a.sessions {
			if time.Since(s.lastSeen) > time.Minute {
				delete(a.sessions, id)
			}
		}
		a.sessMu.Unlock()
	}
}

func (a *api) oneOrder(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	o, err := a.st.order(r.Context(), id)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, o)
}

type placeReq struct {
	Customer int    `json:"customer"`
	Lines    []item `json:"lines"`
}

func (a *api) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req placeReq
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Lines) == 0 {
		http.Error(w, "bad order", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	var committed chan int64
	if a.asyncReceipts {
		committed = make(chan int64)
		go a.mail.confirm(req.Customer, committed)
	}
	id, err := a.st.place(ctx, req.Customer, req.Lines, a.prices)
	if err != nil {
		fail(w, err)
		return
	}
	if a.asyncReceipts {
		committed <- id
	} else {
		a.mail.send(req.Customer, id)
	}
	select {
	case a.events <- id:
	default: // webhook backlog full: the reconciler picks it up later
	}
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, map[string]int64{"id": id})
}

func (a *api) catalog(w http.ResponseWriter, r *http.Request) {
	ps := a.prices.catalog()
	if !a.textCatalog {
		writeJSON(w, ps)
		return
	}
	out := "["
	for k, p := range ps {
		if k > 0 {
			out += ","
		}
		out += fmt.Sprintf(`{"id":%d,"sku":%q,"name":%q,"price_cents":%d,"stock":%d}`, p.ID, p.SKU, p.Name, p.Price, p.Stock) // FAULT(gc-pressure:text-catalog)
	}
	out += "]"
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(out))
}

func (a *api) topProducts(w http.ResponseWriter, r *http.Request) {
	rows, err := a.st.db.QueryContext(r.Context(), `SELECT p.id, p.name, SUM(i.qty) AS n
		FROM order_items i JOIN products p ON p.id = i.product_id GROUP BY p.id ORDER BY n DESC LIMIT 10`)
	if err != nil {
		fail(w, err)
		return
	}
	defer rows.Close()
	type row struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
		Sold int    `json:"sold"`
	}
	var out []row
	for rows.Next() {
		var x row
		if err := rows.Scan(&x.ID, &x.Name, &x.Sold); err != nil {
			fail(w, err)
			return
		}
		out = append(out, x)
	}
	writeJSON(w, out)
}

func (a *api) invoices(w http.ResponseWriter, r *http.Request) {
	cust, _ := strconv.Atoi(r.PathValue("id"))
	list, err := a.bill.forCustomer(r.Context(), cust)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, list)
}

// mailer sends order receipts (to a counter: the mail relay is not part of this service).
type mailer struct {
	sent atomic.Int64
}

func (m *mailer) send(customer int, order int64) { m.sent.Add(1) }

// confirm waits for the order to commit, then sends its receipt.
func (m *mailer) confirm(customer int, committed <-chan int64) {
	id := <-committed // FAULT(goroutine-leak:receipt-wait)
	m.send(customer, id)
}

// webhooks delivers placed orders to partners from a fixed pool of workers.
func webhooks(events <-chan int64, workers int) {
	for i := 0; i < workers; i++ {
		go func() {
			for range events {
				time.Sleep(15 * time.Millisecond) // the partner's endpoint
			}
		}()
	}
}
