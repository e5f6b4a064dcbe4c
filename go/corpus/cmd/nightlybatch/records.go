package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// record is one payment of the day's ledger.
type record struct {
	ID       string
	Merchant int
	Amount   int64 // cents
	Currency string
	At       time.Time
	Memo     string
	Refund   bool
}

var currencies = []string{"EUR", "USD", "GBP", "CHF", "SEK"}

const merchantSpace = 40000

// loadBatch reads the batch's records (here: generates a day's worth), sorted by
// merchant so a chunk covers few merchants.
func loadBatch(n int, seed uint64) []record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	day := time.Now().Truncate(24 * time.Hour)
	out := make([]record, n)
	for i := range out {
		m := int(rng.ExpFloat64()*4000) % merchantSpace
		out[i] = record{
			ID:       fmt.Sprintf("tx-%d-%07d", seed%1000, i),
			Merchant: m,
			Amount:   int64(rng.IntN(200000)) + 50,
			Currency: currencies[rng.IntN(len(currencies))],
			At:       day.Add(time.Duration(rng.IntN(86400)) * time.Second),
			Memo:     fmt.Sprintf("order %d", rng.IntN(1<<30)),
			Refund:   rng.IntN(40) == 0,
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Merchant < out[j].Merchant })
	return out
}

// chunks splits records into pieces of about size, never splitting a merchant unless
// it alone is larger than size.
func chunks(recs []record, size int) [][]record {
	var out [][]record
	start := 0
	for i := 1; i <= len(recs); i++ {
		boundary := i == len(recs) || (i-start >= size && recs[i].Merchant != recs[i-1].Merchant)
		if boundary || i-start >= 4*size {
			out = append(out, recs[start:i])
			start = i
		}
	}
	return out
}
