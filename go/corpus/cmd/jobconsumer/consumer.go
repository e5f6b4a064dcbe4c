package main

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

var errTransient = errors.New("downstream unavailable")

// consumer holds what the workers share: the queue, the webhook client, the
// idempotency records and the per-tenant progress used by the reporter.
type consumer struct {
	variant string
	q       *memQueue
	hookURL string
	client  *http.Client

	seenMu sync.Mutex
	seen   *lruSet               // dedup-window
	done   map[string]*ackRecord // ack-journal
	limits *tenantLimits

	billing *billingLedger

	progress *progress
	totals   *totals
}

type ackRecord struct {
	at   time.Time
	body []byte
	hash string
}

func newConsumer(variant string, q *memQueue, base string) *consumer {
	c := &consumer{variant: variant, q: q, hookURL: base + "/hooks/deliver",
		// no overall timeout: a slow webhook may stream its answer; the header must come soon
		client: &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 2 * time.Second,
			MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second}},
		limits:   newTenantLimits(2, 4),
		seen:     newLRUSet(40000),
		done:     make(map[string]*ackRecord),
		billing:  &billingLedger{},
		progress: &progress{perTenant: make(map[string]int)},
		totals:   &totals{},
	}
	return c
}

// work is one worker: lease, process, ack or nack, forever.
func (c *consumer) work(stop <-chan struct{}) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
	for {
		l, ok := c.q.receive(stop)
		if !ok {
			return
		}
		c.deliver(l, rng)
	}
}

func (c *consumer) deliver(l *lease, rng *rand.Rand) {
	if c.duplicate(l.msg) {
		c.q.ack(l.receipt)
		return
	}
	// tenants have a processing quota; over it, the job waits its turn
	tenant := tenantOf(l.msg.body)
	if c.variant == "quota-spin" {
		for !c.limits.allow(tenant) { // FAULT(cpu-saturation:quota-spin)
		}
	} else if wait := c.limits.reserve(tenant); wait > 0 {
		c.q.nack(l.receipt, wait)
		return
	}
	hb := c.startHeartbeat(l.receipt)
	if c.variant != "heartbeat-leak" {
		defer hb.stop()
	}
	var err error
	if c.variant == "orphaned-result" {
		err = c.runWithTimeout(l.msg, rng, 60*time.Millisecond)
	} else {
		err = c.handle(l.msg, rng)
	}
	if err != nil {
		// exponential backoff, capped, with jitter
		backoff := time.Duration(100<<min(l.msg.attempts, 5)) * time.Millisecond
		backoff += time.Duration(rng.IntN(100)) * time.Millisecond
		c.q.nack(l.receipt, backoff)
		return
	}
	if c.variant == "heartbeat-leak" {
		hb.stop()
	}
	c.afterAck(l)
}

type heartbeatHandle struct{ stop context.CancelFunc }

func (c *consumer) startHeartbeat(receipt uint64) *heartbeatHandle {
	ctx, cancel := context.WithCancel(context.Background())
	go c.heartbeat(ctx, receipt)
	return &heartbeatHandle{stop: cancel}
}

// heartbeat keeps a lease alive while the job runs.
func (c *consumer) heartbeat(ctx context.Context, receipt uint64) {
	t := time.NewTicker(c.q.visibility / 2)
	defer t.Stop()
	for {
		select { // FAULT(goroutine-leak:heartbeat-leak)
		case <-ctx.Done():
			return
		case <-t.C:
			c.q.extend(receipt, c.q.visibility)
		}
	}
}

type result struct {
	err error
}

// runWithTimeout bounds a job's processing time; a job that overruns is retried.
func (c *consumer) runWithTimeout(m *message, rng *rand.Rand, limit time.Duration) error {
	out := make(chan result)
	seed := rng.Uint64()
	go func() {
		err := c.handle(m, rand.New(rand.NewPCG(seed, 2)))
		out <- result{err: err} // FAULT(goroutine-leak:orphaned-result)
	}()
	select {
	case r := <-out:
		return r.err
	case <-time.After(limit):
		return fmt.Errorf("job %s: timed out after %v", m.id, limit)
	}
}

func (c *consumer) duplicate(m *message) bool {
	switch c.variant {
	case "dedup-window":
		c.seenMu.Lock()
		defer c.seenMu.Unlock()
		return !c.seen.add(m.id)
	}
	return false
}

// handle does the job: decode, compute, and for notifications call the webhook.
func (c *consumer) handle(m *message, rng *rand.Rand) error {
	var b jobBody
	if err := json.Unmarshal(m.body, &b); err != nil {
		return nil // malformed: nothing to retry
	}
	sum := sha256.Sum256(m.body)
	for i := 0; i < 4; i++ {
		sum = sha256.Sum256(sum[:])
	}
	total := 0
	for _, v := range b.Lines {
		total += v
	}
	// downstream latency: mostly quick, with a slow tail
	d := time.Duration(2+rng.IntN(6)) * time.Millisecond
	if rng.IntN(100) < 4 {
		d = time.Duration(80+rng.IntN(120)) * time.Millisecond
	}
	time.Sleep(d)
	switch c.variant {
	case "retry-backoff", "orphaned-result", "heartbeat-leak":
		if rng.IntN(100) < 6 {
			return errTransient
		}
	case "billing-lock":
		if b.Kind == "invoice" {
			c.billing.post(b.Account, total)
		}
	case "audit-concat":
		c.audit(m, &b, hex.EncodeToString(sum[:]))
	}
	if b.Kind == "notify" {
		return c.notify(m, &b)
	}
	return nil
}

// notify posts the job's event to the tenant's webhook.
func (c *consumer) notify(m *message, b *jobBody) error {
	payload, _ := json.Marshal(map[string]any{"id": m.id, "tenant": b.Tenant, "account": b.Account})
	req, _ := http.NewRequest(http.MethodPost, c.hookURL+"?tenant="+b.Tenant, bytes.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(req) // FAULT(connection-leak:webhook-body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		if c.variant != "webhook-body" {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		// the receiver is throttling us: hosted queues retry, so do we
		return fmt.Errorf("webhook %s: %s", b.Tenant, resp.Status)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

func (c *consumer) afterAck(l *lease) {
	if !c.q.ack(l.receipt) {
		return
	}
	if c.variant == "ack-journal" {
		// keep what was acked for idempotent replays
		sum := sha256.Sum256(l.msg.body)
		rec := &ackRecord{at: time.Now(), body: append([]byte(nil), l.msg.body...)} // FAULT(memory-leak:ack-journal)
		rec.hash = hex.EncodeToString(sum[:])
		c.seenMu.Lock()
		c.done[l.msg.id] = rec
		c.seenMu.Unlock()
	}
	tenant := tenantOf(l.msg.body)
	if c.variant == "report-inversion" {
		c.progress.mu.Lock()
		c.progress.perTenant[tenant]++
		c.totals.mu.Lock()
		c.totals.jobs++
		c.totals.mu.Unlock()
		c.progress.mu.Unlock()
		return
	}
	c.progress.mu.Lock()
	c.progress.perTenant[tenant]++
	c.progress.mu.Unlock()
	c.totals.mu.Lock()
	c.totals.jobs++
	c.totals.mu.Unlock()
}

func tenantOf(body []byte) string {
	var b struct {
		Tenant string `json:"tenant"`
	}
	_ = json.Unmarshal(body, &b)
	return b.Tenant
}

// audit records what a job did, one line per job.
func (c *consumer) audit(m *message, b *jobBody, digest string) {
	line := "job=" + m.id + " tenant=" + b.Tenant + " account=" + strconv.Itoa(b.Account) + " digest=" + digest
	for i, v := range b.Lines {
		net, tax := v*100/119, v-v*100/119
		for _, part := range []string{"amount", "net", "tax", "currency", "rate", "account", "region", "cost-centre", "ledger", "period"} {
			line += fmt.Sprintf(" line[%d].%s=%d/%d/%d", i, part, v, net, tax) // FAULT(gc-pressure:audit-concat)
		}
	}
	for k, v := range b.Attrs {
		line += " " + k + "=" + v
	}
	c.totals.mu.Lock()
	c.totals.auditBytes += len(line)
	c.totals.mu.Unlock()
}

// progress and totals feed the periodic report.
type progress struct {
	mu        sync.Mutex
	perTenant map[string]int
}

type totals struct {
	mu         sync.Mutex
	jobs       int
	auditBytes int
	ranking    []tenantCount // tenants by jobs done, busiest first
}

type tenantCount struct {
	tenant string
	jobs   int
}

// reportLoop keeps the tenant ranking of the live dashboard current.
func (c *consumer) reportLoop() {
	for range time.Tick(5 * time.Millisecond) {
		if c.variant == "report-inversion" {
			c.totals.mu.Lock()
			rankTenants(c.totals.ranking)
			c.progress.mu.Lock() // FAULT(deadlock:report-inversion)
			c.totals.ranking = snapshot(c.totals.ranking[:0], c.progress.perTenant)
			c.progress.mu.Unlock()
			c.totals.mu.Unlock()
			continue
		}
		c.progress.mu.Lock()
		snap := snapshot(nil, c.progress.perTenant)
		c.progress.mu.Unlock()
		rankTenants(snap)
		c.totals.mu.Lock()
		c.totals.ranking = snap
		c.totals.mu.Unlock()
	}
}

func snapshot(dst []tenantCount, m map[string]int) []tenantCount {
	for k, v := range m {
		dst = append(dst, tenantCount{k, v})
	}
	return dst
}

func rankTenants(r []tenantCount) {
	sort.Slice(r, func(i, j int) bool {
		if r[i].jobs != r[j].jobs {
			return r[i].jobs > r[j].jobs
		}
		return r[i].tenant < r[j].tenant
	})
}

// billingLedger posts invoice totals to the billing system, one call per invoice.
type billingLedger struct {
	mu       sync.Mutex
	balances map[int]int
}

func (l *billingLedger) post(account, amount int) {
	l.mu.Lock() // FAULT(lock-contention:billing-lock)
	defer l.mu.Unlock()
	if l.balances == nil {
		l.balances = make(map[int]int)
	}
	// the confirmation round trip to the billing system, under the ledger lock
	time.Sleep(9 * time.Millisecond)
	l.balances[account%4096] += amount
}

// lruSet remembers the last n ids seen; add reports whether id was new.
type lruSet struct {
	n     int
	order *list.List
	at    map[string]*list.Element
}

func newLRUSet(n int) *lruSet {
	return &lruSet{n: n, order: list.New(), at: make(map[string]*list.Element, n)}
}

func (s *lruSet) add(id string) bool {
	if e, ok := s.at[id]; ok {
		s.order.MoveToFront(e)
		return false
	}
	s.at[id] = s.order.PushFront(id)
	if s.order.Len() > s.n {
		old := s.order.Remove(s.order.Back()).(string)
		delete(s.at, old)
	}
	return true
}

// hookEndpoint is the tenants' webhook receiver (here, in-process): it throttles now
// and then as real receivers do.
func hookEndpoint() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if rand.IntN(100) < 15 {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}
}
