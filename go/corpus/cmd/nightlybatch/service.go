package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runSummary is what a run reports to the status page.
type runSummary struct {
	Job      string        `json:"job"`
	Started  time.Time     `json:"started"`
	Took     time.Duration `json:"took"`
	Records  int           `json:"records"`
	Chunks   int           `json:"chunks"`
	Failed   bool          `json:"failed"`
	Settled  int64         `json:"settled_cents"`
	Merchant int           `json:"merchants"`
}

// runDetail is a run with its per-merchant results, kept for the drill-down.
type runDetail struct {
	summary runSummary
	totals  []merchantTotal
	input   []record
}

type merchantTotal struct {
	Merchant int
	Net      int64
	Count    int
	Name     string
}

type service struct {
	variant string
	factor  func() float64

	// mu guards the run book: the last run of each job and the recent runs.
	mu      sync.Mutex
	last    map[string]runSummary
	history []runDetail

	// ledgerMu guards the settled balances the rollup commits into.
	ledgerMu sync.Mutex
	balances map[int]int64

	merchants *merchantCache
	warehouse string
	batches   atomic.Uint64
}

const keepRuns = 30

func newService(variant string, factor func() float64) *service {
	return &service{variant: variant, factor: factor, last: make(map[string]runSummary),
		balances: make(map[int]int64), merchants: newMerchantCache(25000)}
}

func (s *service) batchSize(base int) int {
	n := int(float64(base) * s.factor())
	return max(n, 200)
}

var errMalformed = errors.New("malformed record")

// rollup settles each merchant's day: chunks of records summed on their own goroutines,
// merged, committed to the balances.
func (s *service) rollup(ctx context.Context) runSummary {
	started := time.Now()
	seed := s.batches.Add(1)
	recs := loadBatch(s.batchSize(6000), seed)
	size := 60
	if s.variant == "wide-fanout" {
		size = 8
	}
	parts := chunks(recs, size)
	sum := runSummary{Job: "settlement-rollup", Started: started, Records: len(recs), Chunks: len(parts)}

	if s.variant == "held-merchant" {
		s.rollupWithHolds(parts, &sum)
	} else {
		totals, err := s.sumChunks(ctx, parts)
		if err != nil {
			sum.Failed = true
		} else {
			sum.Merchant = len(totals)
			s.commit(totals, &sum)
			if s.variant == "run-history" {
				s.remember(runDetail{summary: sum, totals: flatten(totals), input: recs})
			}
		}
	}
	sum.Took = time.Since(started)
	s.record(sum)
	return sum
}

type chunkResult struct {
	totals map[int]merchantTotal
	err    error
}

func (s *service) sumChunks(ctx context.Context, parts [][]record) (map[int]merchantTotal, error) {
	results := make(chan chunkResult)
	if s.variant != "abandoned-chunks" {
		results = make(chan chunkResult, len(parts))
	}
	for _, p := range parts {
		go func(p []record) {
			t, err := s.sumChunk(p)
			results <- chunkResult{totals: t, err: err} // FAULT(goroutine-leak:abandoned-chunks)
		}(p)
	}
	merged := make(map[int]merchantTotal)
	for range parts {
		var r chunkResult
		select {
		case r = <-results:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if r.err != nil {
			// one bad chunk fails the run; it is retried on the next tick
			return nil, r.err
		}
		for m, t := range r.totals {
			cur := merged[m]
			cur.Merchant, cur.Name = m, t.Name
			cur.Net += t.Net
			cur.Count += t.Count
			merged[m] = cur
		}
	}
	return merged, nil
}

func (s *service) sumChunk(p []record) (map[int]merchantTotal, error) {
	// the merchants' fee schedules come from the pricing service, one call per chunk
	time.Sleep(time.Duration(50+rand.IntN(350)) * time.Millisecond)
	out := make(map[int]merchantTotal)
	for _, r := range p {
		if r.Amount <= 0 {
			return nil, errMalformed
		}
		t := out[r.Merchant]
		t.Merchant = r.Merchant
		if s.variant == "merchant-cache" {
			t.Name = s.merchants.get(r.Merchant).displayName
		}
		if r.Refund {
			t.Net -= r.Amount
		} else {
			t.Net += r.Amount
		}
		t.Count++
		out[r.Merchant] = t
	}
	// a settlement file has a checksum line per chunk
	var x uint64
	for _, r := range p {
		for i := 0; i < len(r.ID); i++ {
			x = x*1099511628211 ^ uint64(r.ID[i])
		}
	}
	if x%97 == 0 && s.variant == "abandoned-chunks" {
		return nil, errMalformed
	}
	return out, nil
}

// rollupWithHolds is the rollup with compliance holds: a merchant under review is left
// out of the day's settlement. The chunk results go straight into the ledger.
func (s *service) rollupWithHolds(parts [][]record, sum *runSummary) {
	var wg sync.WaitGroup
	var settled atomic.Int64
	wg.Add(len(parts))
	for _, p := range parts {
		go func(p []record) {
			if onHold(p[0].Merchant) {
				return
			}
			defer wg.Done()
			t, err := s.sumChunk(p)
			if err != nil {
				return
			}
			s.ledgerMu.Lock()
			for m, mt := range t {
				s.balances[m] += mt.Net
				settled.Add(mt.Net)
			}
			s.ledgerMu.Unlock()
		}(p)
	}
	// the run book shows the rollup closing until every chunk is in, so the status page
	// never reports a half-settled day
	s.mu.Lock()
	s.last[sum.Job] = runSummary{Job: sum.Job, Started: sum.Started, Chunks: sum.Chunks}
	wg.Wait() // FAULT(deadlock:held-merchant)
	s.mu.Unlock()
	sum.Settled = settled.Load()
}

func onHold(merchant int) bool { return merchant%997 == 13 }

func (s *service) commit(totals map[int]merchantTotal, sum *runSummary) {
	s.ledgerMu.Lock()
	defer s.ledgerMu.Unlock()
	for m, t := range totals {
		s.balances[m] += t.Net
		sum.Settled += t.Net
	}
}

func flatten(m map[int]merchantTotal) []merchantTotal {
	out := make([]merchantTotal, 0, len(m))
	for _, t := range m {
		out = append(out, t)
	}
	return out
}

// remember keeps a run with its details for the drill-down page.
func (s *service) remember(d runDetail) {
	kept := runDetail{summary: d.summary, totals: d.totals}
	kept.input = make([]record, len(d.input)) // FAULT(memory-leak:run-history)
	copy(kept.input, d.input)
	s.mu.Lock()
	s.history = append(s.history, kept)
	s.mu.Unlock()
}

func (s *service) record(sum runSummary) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last[sum.Job] = sum
	if s.variant != "run-history" {
		s.history = append(s.history, runDetail{summary: sum})
		if len(s.history) > keepRuns {
			s.history = append(s.history[:0], s.history[len(s.history)-keepRuns:]...)
		}
	}
}

func (s *service) handleStatus(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make(map[string]runSummary, len(s.last))
	for k, v := range s.last {
		out[k] = v
	}
	s.mu.Unlock()
	s.ledgerMu.Lock()
	open := len(s.balances)
	s.ledgerMu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"jobs": out, "open_accounts": open})
}

func (s *service) handleRuns(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	n := min(len(s.history), 20)
	out := make([]runSummary, 0, n)
	for _, d := range s.history[len(s.history)-n:] {
		out = append(out, d.summary)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (s *service) String() string { return fmt.Sprintf("nightlybatch(%s)", s.variant) }
