package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// producer stands in for the upstream services publishing jobs. A publisher is
// throttled when the queue backs up, as a hosted queue's would be.
type producer struct {
	id  int
	seq int
	q   *memQueue
	rng *rand.Rand
}

const maxBacklog = 20000

func newProducer(id int, q *memQueue) *producer {
	return &producer{id: id, q: q, rng: rand.New(rand.NewPCG(uint64(id), 7))}
}

type jobBody struct {
	Tenant   string            `json:"tenant"`
	Account  int               `json:"account"`
	Kind     string            `json:"kind"`
	Lines    []int             `json:"lines"`
	Attrs    map[string]string `json:"attrs"`
	Deadline time.Time         `json:"deadline"`
}

var jobKinds = []string{"invoice", "notify", "thumbnail", "invoice", "notify"}

func (p *producer) publish() {
	if ready, _, _, _ := p.q.depth(); ready > maxBacklog {
		return
	}
	p.seq++
	kind := jobKinds[p.rng.IntN(len(jobKinds))]
	b := jobBody{Tenant: fmt.Sprintf("t%03d", p.rng.IntN(200)), Account: p.rng.IntN(1 << 20), Kind: kind,
		Attrs: map[string]string{"source": "api", "region": "eu-west-1"}, Deadline: time.Now().Add(time.Minute)}
	for i := 0; i < 8+p.rng.IntN(24); i++ {
		b.Lines = append(b.Lines, p.rng.IntN(100000))
	}
	raw, _ := json.Marshal(b)
	p.q.send(&message{id: fmt.Sprintf("p%d-%08d", p.id, p.seq), kind: kind, body: raw, enqueued: time.Now()})
}
