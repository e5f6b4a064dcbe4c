// pricefeed aggregates prices from a supplier API and serves the cheapest offer.
package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"

	"godiag.scenarios/internal/svc"
)

type offer struct {
	Supplier string  `json:"supplier"`
	Price    float64 `json:"price"`
}

// client is shared by all lookups. Like http.DefaultClient it has no overall
// timeout, so nothing ever cancels a response whose body is left unread.
var client = &http.Client{}

// bestOffer asks the supplier API and decodes only what it needs.
func bestOffer(base, sku string) (offer, error) {
	resp, err := client.Get(base + "/offers?sku=" + sku) // FAULT(connection-leak)
	if err != nil {
		return offer{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return offer{}, fmt.Errorf("supplier: %s", resp.Status)
	}
	var o offer
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		return offer{}, err
	}
	return o, nil
}

func main() {
	upstream := svc.Upstream(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rand.IntN(3) == 0 {
			http.Error(w, "supplier overloaded, retry later", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(offer{Supplier: "acme", Price: 10 + rand.Float64()})
	}))
	s := svc.Start("pricefeed")
	s.Handle("/price", func(w http.ResponseWriter, r *http.Request) {
		o, err := bestOffer(upstream, r.URL.Query().Get("sku"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_ = json.NewEncoder(w).Encode(o)
	})
	s.Rate(40, func(i int) { s.Get(fmt.Sprintf("/price?sku=sku-%d", i%100)) })
	s.Serve()
}
