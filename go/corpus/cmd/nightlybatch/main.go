// nightlybatch is a batch service: a scheduler fires its jobs on tickers (every few
// seconds here, nightly in production), each job processes a batch of payment records
// in chunks on short-lived goroutines, and a small HTTP endpoint reports the runs.
// Dashboards poll that endpoint.
package main

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"godiag.corpus/internal/expose"
)

var variants = []string{
	"nightly", "wide-fanout", "merchant-cache",
	"abandoned-chunks", "run-history", "batch-lock", "held-merchant",
	"pairwise-dedupe", "csv-concat", "sink-dial",
}

func main() {
	env := expose.Start("nightlybatch", variants...)
	svc := newService(env.Variant, env.Factor)
	sink, err := startWarehouse()
	if err != nil {
		panic(err)
	}
	svc.warehouse = sink

	env.Mux.HandleFunc("/status", svc.handleStatus)
	env.Mux.HandleFunc("/runs", svc.handleRuns)

	sched := &scheduler{}
	sched.add("settlement-rollup", 2*time.Second, svc.rollup)
	sched.add("ledger-export", 2*time.Second, svc.export)
	sched.add("reconcile", 3*time.Second, svc.reconcile)
	sched.start(context.Background())

	go dashboards(env)
	expose.Wait()
}

// dashboards stand in for the people and monitors watching the batch: each refresh is
// its own request with a short timeout.
func dashboards(env *expose.Env) {
	client := &http.Client{Timeout: 3 * time.Second}
	paths := []string{"/status", "/status", "/runs"}
	env.Every(15, func() {
		go func() {
			resp, err := client.Get(env.URL + paths[rand.IntN(len(paths))])
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	})
}
