package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"godiag.corpus/internal/expose"
)

// shopMix weighs what a shopper does next.
type shopMix struct {
	list, view, catalog, place, invoices, report int
}

// shoppers runs 36 simulated customers. Each thinks for a while (shorter when the shop
// is busier), then does one thing; a few promoted products take most of the new orders,
// so they sell out between restocks.
func shoppers(e *expose.Env, mix shopMix) {
	hc := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 36; i++ {
		go func(seed uint64) {
			r := rand.New(rand.NewPCG(seed, 99))
			for {
				think := time.Duration(float64(350*time.Millisecond) * (0.5 + r.Float64()) / e.Factor())
				time.Sleep(think)
				shopOnce(hc, e.URL, r, mix)
			}
		}(uint64(i))
	}
}

func shopOnce(hc *http.Client, base string, r *rand.Rand, mix shopMix) {
	cust := 1 + r.IntN(nCustomers)
	total := mix.list + mix.view + mix.catalog + mix.place + mix.invoices + mix.report
	pick := r.IntN(total)
	var req *http.Request
	switch {
	case pick < mix.list:
		req, _ = http.NewRequest("GET", fmt.Sprintf("%s/api/customers/%d/orders", base, cust), nil)
	case pick < mix.list+mix.view:
		req, _ = http.NewRequest("GET", fmt.Sprintf("%s/api/orders/%d", base, 1+r.IntN(nOrders)), nil)
	case pick < mix.list+mix.view+mix.catalog:
		req, _ = http.NewRequest("GET", base+"/api/catalog", nil)
	case pick < mix.list+mix.view+mix.catalog+mix.place:
		var lines []item
		for n := 1 + r.IntN(4); n > 0; n-- {
			p := 1 + r.IntN(nProducts)
			if r.IntN(2) == 0 {
				p = 1 + r.IntN(5) // promoted
			}
			lines = append(lines, item{Product: p, Qty: 1 + r.IntN(5)})
		}
		body, _ := json.Marshal(placeReq{Customer: cust, Lines: lines})
		req, _ = http.NewRequest("POST", base+"/api/orders", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	case pick < total-mix.report:
		req, _ = http.NewRequest("GET", fmt.Sprintf("%s/api/customers/%d/invoices", base, cust), nil)
	default:
		req, _ = http.NewRequest("GET", base+"/api/reports/top-products", nil)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
