package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"godiag.corpus/internal/expose"
)

func dial(target string) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype("json")))
}

// storefront is the population of clients: shoppers looking items up and reserving them,
// browsers listing by pattern, pages watching a product, and a repricing job.
type storefront struct {
	env            *expose.Env
	target         string
	cc             *grpc.ClientConn
	skus           []string
	orders         atomic.Uint64
	dialPerReprice bool
}

func newStorefront(env *expose.Env, target string, skus []string) (*storefront, error) {
	cc, err := dial(target)
	if err != nil {
		return nil, err
	}
	return &storefront{env: env, target: target, cc: cc, skus: skus}, nil
}

// pause sleeps for one client's think time at the current load.
func (f *storefront) pause(perSecond float64) {
	rate := perSecond * f.env.Factor()
	if rate < 0.2 {
		rate = 0.2
	}
	d := time.Duration(float64(time.Second) / rate)
	time.Sleep(d/2 + time.Duration(rand.Int64N(int64(d))))
}

// hot picks mostly among the best sellers.
func (f *storefront) hot() string {
	if rand.IntN(10) < 7 {
		return f.skus[rand.IntN(200)]
	}
	return f.skus[rand.IntN(len(f.skus))]
}

func (f *storefront) run(longWatches bool) {
	for i := 0; i < 12; i++ {
		go f.shopper()
	}
	for i := 0; i < 2; i++ {
		go f.browser()
	}
	go f.pages()
	go f.reprice()
	if longWatches {
		for i := 0; i < 400; i++ {
			go f.follower(f.skus[rand.IntN(len(f.skus))])
		}
	}
}

func (f *storefront) shopper() {
	var last string
	for {
		f.pause(16)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		sku := f.hot()
		var it Item
		err := f.cc.Invoke(ctx, method("Lookup"), &LookupRequest{SKU: sku}, &it)
		if err == nil && rand.IntN(2) == 0 {
			id := fmt.Sprintf("ord-%d", f.orders.Add(1))
			if last != "" && rand.IntN(20) == 0 {
				id = last // a retried checkout
			}
			last = id
			var r ReserveReply
			_ = f.cc.Invoke(ctx, method("Reserve"), &ReserveRequest{OrderID: id, SKU: sku, Qty: 1 + rand.IntN(3)}, &r)
		}
		cancel()
	}
}

var patterns = []string{
	`^A[B-F]-0\d{3}7$`, `^(QZ|RX|MM)-\d+$`, `^[KLM][A-Z]-00[0-9]{2}[13579]$`,
	`-(12|34|56)\d{2}$`, `^Z[A-Z]-\d*(00|99)$`, `^(?:C|D)(?:A|E|I|O|U)-[0-4]\d{4}$`,
}

func (f *storefront) browser() {
	for {
		f.pause(8)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		cs, err := f.cc.NewStream(ctx, &listStream, method("List"))
		if err == nil {
			err = cs.SendMsg(&ListRequest{Pattern: patterns[rand.IntN(len(patterns))], Limit: 40})
		}
		if err == nil {
			err = cs.CloseSend()
		}
		for err == nil {
			var it Item
			err = cs.RecvMsg(&it)
		}
		cancel()
	}
}

// pages: product pages open a watch for the next few stock changes of the item shown.
func (f *storefront) pages() {
	for {
		f.pause(6)
		go func(sku string) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(800+rand.IntN(1200))*time.Millisecond)
			defer cancel()
			_ = f.watch(ctx, sku, 2)
		}(f.skus[rand.IntN(200)])
	}
}

// follower holds a watch open for as long as the process lives (a dashboard).
func (f *storefront) follower(sku string) {
	for {
		err := f.watch(context.Background(), sku, 0)
		if err != nil && !errors.Is(err, io.EOF) {
			time.Sleep(time.Second)
		}
	}
}

func (f *storefront) watch(ctx context.Context, sku string, max int) error {
	cs, err := f.cc.NewStream(ctx, &watchStream, method("Watch"))
	if err != nil {
		return err
	}
	if err := cs.SendMsg(&WatchRequest{SKU: sku, Max: max}); err != nil {
		return err
	}
	if err := cs.CloseSend(); err != nil {
		return err
	}
	for {
		var c StockChange
		if err := cs.RecvMsg(&c); err != nil {
			return err
		}
	}
}

// reprice walks the discount list once, checking each item's current price.
func (f *storefront) reprice() {
	for _, sku := range f.skus[2000:3500] {
		f.pause(9)
		cc := f.cc
		if f.dialPerReprice {
			// the pricing job was written against its own connection per item
			c, err := dial(f.target) // FAULT(connection-leak:client-per-call)
			if err != nil {
				continue
			}
			cc = c
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		var it Item
		_ = cc.Invoke(ctx, method("Lookup"), &LookupRequest{SKU: sku}, &it)
		cancel()
	}
}
