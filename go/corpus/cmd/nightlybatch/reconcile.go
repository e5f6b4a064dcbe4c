package main

import (
	"context"
	"sort"
	"time"
)

// reconcile matches the processor's settlement report against the ledger's records:
// duplicates are reported, the rest summed per currency.
func (s *service) reconcile(ctx context.Context) runSummary {
	started := time.Now()
	recs := loadBatch(s.batchSize(24000), s.batches.Add(1))
	// the processor's report repeats a few rows
	for i := 0; i < len(recs)/200; i++ {
		recs = append(recs, recs[i*37%len(recs)])
	}
	sum := runSummary{Job: "reconcile", Started: started, Records: len(recs)}
	var dups int
	if s.variant == "pairwise-dedupe" {
		dups = countDupsPairwise(recs)
	} else {
		dups = countDupsSorted(recs)
	}
	perCurrency := make(map[string]int64)
	for _, r := range recs {
		perCurrency[r.Currency] += r.Amount
	}
	sum.Chunks = dups
	sum.Merchant = len(perCurrency)
	sum.Took = time.Since(started)
	s.record(sum)
	return sum
}

func countDupsSorted(recs []record) int {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	sort.Strings(ids)
	n := 0
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			n++
		}
	}
	return n
}

// countDupsPairwise compares every row with every later row.
func countDupsPairwise(recs []record) int {
	n := 0
	for i := range recs {
		for j := i + 1; j < len(recs); j++ {
			if recs[i].ID == recs[j].ID && recs[i].Amount == recs[j].Amount { // FAULT(cpu-saturation:pairwise-dedupe)
				n++
				break
			}
		}
	}
	return n
}
