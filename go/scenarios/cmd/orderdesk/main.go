// orderdesk takes orders through an order actor that reserves stock from an
// inventory actor; inventory tells the order actor when an item runs low.
package main

import (
	"fmt"
	"net/http"
	"time"

	"godiag.scenarios/internal/svc"
)

type reserve struct {
	sku   int
	reply chan bool
}

type placeOrder struct {
	sku   int
	reply chan string
}

type inventory struct {
	requests chan reserve
	stock    map[int]int
	orders   *orderActor
}

type orderActor struct {
	place    chan placeOrder
	lowStock chan int
	inv      *inventory
	paused   map[int]bool
}

// loop serves reservations and warns the order actor about low stock.
func (inv *inventory) loop() {
	for req := range inv.requests {
		ok := inv.stock[req.sku] > 0
		if ok {
			inv.stock[req.sku]--
		}
		if inv.stock[req.sku] < 5 {
			inv.orders.lowStock <- req.sku // FAULT(deadlock)
			inv.stock[req.sku] += 50
		}
		req.reply <- ok
	}
}

func (o *orderActor) loop() {
	for {
		select {
		case p := <-o.place:
			if o.paused[p.sku] {
				p.reply <- "back-ordered"
				continue
			}
			r := reserve{sku: p.sku, reply: make(chan bool, 1)}
			o.inv.requests <- r
			if <-r.reply {
				p.reply <- "accepted"
			} else {
				o.paused[p.sku] = true // until inventory reports a restock
				p.reply <- "out of stock"
			}
		case sku := <-o.lowStock:
			o.paused[sku] = false
		}
	}
}

func main() {
	o := &orderActor{place: make(chan placeOrder), lowStock: make(chan int), paused: map[int]bool{}}
	inv := &inventory{requests: make(chan reserve), stock: map[int]int{}, orders: o}
	o.inv = inv
	for sku := 0; sku < 20; sku++ {
		inv.stock[sku] = 6
	}
	go inv.loop()
	go o.loop()
	s := svc.Start("orderdesk")
	s.Handle("/order", func(w http.ResponseWriter, r *http.Request) {
		var sku int
		fmt.Sscan(r.URL.Query().Get("sku"), &sku)
		p := placeOrder{sku: sku, reply: make(chan string, 1)}
		o.place <- p
		fmt.Fprintln(w, <-p.reply)
	})
	s.Handle("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s.Rate(120, func(i int) { s.Get(fmt.Sprintf("/order?sku=%d", i%20)) })
	s.Workers(1, 500*time.Millisecond, func(int) { s.Get("/healthz") })
	s.Serve()
}
