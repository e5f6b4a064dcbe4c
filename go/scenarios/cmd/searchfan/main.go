// searchfan queries several index replicas in parallel and answers with the
// first reply, the classic latency-hedging pattern.
package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"time"

	"godiag.scenarios/internal/svc"
)

type result struct {
	Replica string   `json:"replica"`
	Hits    []string `json:"hits"`
}

type replica struct {
	name string
	slow time.Duration
}

func (r *replica) query(q string) result {
	time.Sleep(time.Duration(rand.Int64N(int64(r.slow))))
	h := fnv.New32a()
	h.Write([]byte(q))
	n := int(h.Sum32() % 5)
	hits := make([]string, n)
	for i := range hits {
		hits[i] = fmt.Sprintf("doc-%d", (int(h.Sum32())+i)%1000)
	}
	return result{Replica: r.name, Hits: hits}
}

// search returns whichever replica answers first.
func search(q string, replicas []*replica) result {
	c := make(chan result)
	for _, r := range replicas {
		go func() {
			c <- r.query(q) // FAULT(goroutine-leak)
		}()
	}
	return <-c
}

func main() {
	replicas := []*replica{{"idx-a", 20 * time.Millisecond}, {"idx-b", 30 * time.Millisecond}, {"idx-c", 60 * time.Millisecond}}
	s := svc.Start("searchfan")
	s.Handle("/search", func(w http.ResponseWriter, r *http.Request) {
		res := search(r.URL.Query().Get("q"), replicas)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(res)
	})
	s.Rate(30, func(i int) { s.Get(fmt.Sprintf("/search?q=term%d", i%300)) })
	s.Serve()
}
