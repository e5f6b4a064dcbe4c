// jobpoller runs background jobs submitted over HTTP with a small pool of
// pollers that pick jobs off a queue as soon as they arrive.
package main

import (
	"crypto/md5"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"godiag.scenarios/internal/svc"
)

type job struct {
	id   int64
	data []byte
}

type poller struct {
	jobs chan job
	done atomic.Int64
	idle atomic.Int64
}

// run takes jobs from the queue without ever waiting.
func (p *poller) run() {
	for {
		select {
		case j := <-p.jobs:
			md5.Sum(j.data)
			p.done.Add(1)
		default:
			p.idle.Add(1) // FAULT(cpu-saturation)
		}
	}
}

func main() {
	p := &poller{jobs: make(chan job, 128)}
	s := svc.Start("jobpoller")
	for i := 0; i < s.Scale(2); i++ {
		go p.run()
	}
	var next atomic.Int64
	s.Handle("/submit", func(w http.ResponseWriter, r *http.Request) {
		id := next.Add(1)
		p.jobs <- job{id: id, data: []byte(r.URL.Query().Get("payload"))}
		fmt.Fprintf(w, "job %d queued\n", id)
	})
	s.Handle("/stats", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "done=%d idle_polls=%d\n", p.done.Load(), p.idle.Load())
	})
	s.Rate(20, func(i int) { s.Get(fmt.Sprintf("/submit?payload=report-%d", i)) })
	s.Workers(1, time.Second, func(int) { s.Get("/stats") })
	s.Serve()
}
