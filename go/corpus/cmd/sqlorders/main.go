// sqlorders is a shop's order service on database/sql over SQLite: customers list their
// orders, look at one, place new ones in a transaction that takes stock; a price book is
// kept in memory, a billing run invoices new orders, webhook workers tell partners.
// Simulated shoppers drive it through its HTTP API.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"godiag.corpus/internal/expose"
)

func main() {
	e := expose.Start("sqlorders", "steady", "report-heavy", "partner-pool",
		"disputed-cursor", "price-check", "sales-per-line", "refunded-order", "receipt-wait",
		"view-history", "text-catalog")
	db, wdb, dir, err := openDB()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlorders:", err)
		os.Exit(1)
	}
	removeAtExit(dir)
	db.SetMaxOpenConns(12)
	db.SetMaxIdleConns(12)
	db.SetConnMaxIdleTime(time.Minute)
	if err := seed(wdb); err != nil {
		fmt.Fprintln(os.Stderr, "sqlorders: seed:", err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}

	st := &store{db: db, wdb: wdb}
	prices := &priceBook{db: db}
	if err := prices.reload(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "sqlorders: prices:", err)
		os.Exit(1)
	}
	a := &api{st: st, prices: prices, bill: &billing{st: st}, mail: &mailer{},
		events: make(chan int64, 1024), listing: st.recentOrders, sessions: map[int]*session{}}
	shop := shopMix{list: 40, view: 22, catalog: 12, place: 16, invoices: 6, report: 4}
	partners := 4

	switch e.Variant {
	case "report-heavy":
		shop.report = 8
	case "partner-pool":
		partners = 600
	case "disputed-cursor":
		a.listing = st.recentOrdersPaged
	case "price-check":
		prices.checkEachRead = true
	case "sales-per-line":
		a.listing = st.recentOrdersWithSales
	case "refunded-order":
		a.bill.legacy = true
	case "receipt-wait":
		a.asyncReceipts = true
	case "view-history":
		a.keepHistory = true
	case "text-catalog":
		a.textCatalog = true
		shop.catalog = 30
	}
	go prices.keepFresh()
	go a.expireSessions()
	go a.bill.loop()
	webhooks(a.events, partners)
	go func() {
		for range time.Tick(2 * time.Second) {
			_ = st.restock(context.Background())
		}
	}()
	a.routes(e.Mux)
	go shoppers(e, shop)
	expose.Wait()
}

// removeAtExit deletes the database directory when the process is told to stop and just
// before the lifetime ends (the lifetime timer exits without running deferred calls).
func removeAtExit(dir string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		_ = os.RemoveAll(dir)
		os.Exit(0)
	}()
	if f := flag.Lookup("lifetime"); f != nil {
		if life, ok := f.Value.(flag.Getter).Get().(time.Duration); ok && life > time.Second {
			time.AfterFunc(life-500*time.Millisecond, func() { _ = os.RemoveAll(dir) })
		}
	}
}
