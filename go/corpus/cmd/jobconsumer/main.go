// jobconsumer is a queue consumer: producers publish jobs onto an in-process queue with
// hosted-queue semantics (leases, visibility timeouts, acks, retries with backoff, a
// dead-letter list) and a pool of workers processes them, delivering a webhook for
// notification jobs to the service's own HTTP listener.
package main

import (
	"encoding/json"
	"net/http"
	"runtime"
	"time"

	"godiag.corpus/internal/expose"
)

var variants = []string{
	"steady", "idle-pool", "retry-backoff", "dedup-window",
	"orphaned-result", "heartbeat-leak", "ack-journal", "webhook-body",
	"billing-lock", "report-inversion", "quota-spin", "audit-concat",
}

func main() {
	// The fleet samples mutex contention on its consumers.
	runtime.SetMutexProfileFraction(5)
	env := expose.Start("jobconsumer", variants...)

	workers := 24
	if env.Variant == "idle-pool" {
		// sized for the nightly backfill, idle the rest of the day
		workers = 1500
	}
	q := newQueue(2*time.Second, 5)
	c := newConsumer(env.Variant, q, env.URL)

	env.Mux.HandleFunc("/hooks/deliver", hookEndpoint())
	env.Mux.HandleFunc("/queue/stats", func(w http.ResponseWriter, _ *http.Request) {
		ready, inflight, later, dead := q.depth()
		q.stats.mu.Lock()
		out := map[string]any{"ready": ready, "inflight": inflight, "delayed": later, "dead": dead,
			"enqueued": q.stats.enqueued, "acked": q.stats.acked, "retried": q.stats.retried,
			"redelivered": q.stats.redelivered}
		q.stats.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})

	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		for now := range t.C {
			q.sweep(now)
		}
	}()
	for i := 0; i < workers; i++ {
		go c.work(stop)
	}
	go c.reportLoop()
	for i := 0; i < 4; i++ {
		p := newProducer(i, q)
		go env.Every(75, p.publish)
	}
	expose.Wait()
}
