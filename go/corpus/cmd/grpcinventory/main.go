// grpcinventory: a stock-keeping gRPC service (lookups, reservations journalled to an audit
// service, pattern listings and change watches streamed to clients) with the storefront's
// client population running in the same process.
package main

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"google.golang.org/grpc"

	"godiag.corpus/internal/expose"
)

var variants = map[string]behaviour{
	"baseline":            {},
	"long-watches":        {},
	"label-cache":         {labelCache: 30000},
	"watch-follower":      {followerDetached: true},
	"reservation-history": {keepHistory: true},
	"client-per-call":     {},
	"audit-in-lock":       {auditInsideLock: true},
	"restock-batch-lock":  {restockWholeLock: true},
	"pattern-per-item":    {patternPerItem: true},
	"label-concat":        {concatLabels: true},
}

func main() {
	names := make([]string, 0, len(variants))
	for n := range variants {
		names = append(names, n)
	}
	env := expose.Start("grpcinventory", names...)
	// this fleet samples lock and blocking waits
	runtime.SetMutexProfileFraction(20)
	runtime.SetBlockProfileRate(100_000)

	inv := newInventory(variants[env.Variant], 4000)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpcinventory:", err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	srv.RegisterService(&inventoryDesc, inv)
	go func() { _ = srv.Serve(ln) }()
	target := ln.Addr().String()

	if inv.auditClient, err = dial(target); err != nil {
		fmt.Fprintln(os.Stderr, "grpcinventory:", err)
		os.Exit(1)
	}
	go inv.expireLedger(10 * time.Second)
	go func() {
		for range time.Tick(250 * time.Millisecond) {
			inv.restock(inv.pickBatch(48))
		}
	}()

	fe, err := newStorefront(env, target, inv.skus)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpcinventory:", err)
		os.Exit(1)
	}
	fe.dialPerReprice = env.Variant == "client-per-call"
	fe.run(env.Variant == "long-watches")
	expose.Wait()
}
