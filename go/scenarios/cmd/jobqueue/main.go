// jobqueue renders reports on a fixed pool of workers fed by a bounded queue.
// A report made of sections is split into one sub-job per section (sections have
// sub-sections, one level fewer), queued on the same pool, and assembled when
// they are done.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"godiag.scenarios/internal/svc"
)

type job struct {
	name     string
	sections int
	done     chan string
}

type pool struct {
	queue chan *job
}

func newPool(workers, depth int) *pool {
	p := &pool{queue: make(chan *job, depth)}
	for i := 0; i < workers; i++ {
		go p.work()
	}
	return p
}

func (p *pool) work() {
	for j := range p.queue {
		j.done <- p.render(j)
	}
}

// render produces one job's output. A multi-section report queues its sections on
// the pool it is running on and waits for them: once every worker is waiting for
// sections that only a free worker could render, the pool stops for good.
func (p *pool) render(j *job) string {
	if j.sections == 0 {
		time.Sleep(5 * time.Millisecond) // query and format one section
		return j.name
	}
	parts := make([]*job, j.sections)
	for i := range parts {
		parts[i] = &job{name: fmt.Sprintf("%s/%d", j.name, i), sections: j.sections - 1, done: make(chan string, 1)}
		p.queue <- parts[i]
	}
	out := make([]string, 0, len(parts))
	for _, part := range parts {
		out = append(out, <-part.done) // FAULT(deadlock)
	}
	return strings.Join(out, ",")
}

// submit queues a job and waits for its output.
func (p *pool) submit(name string, sections int) string {
	j := &job{name: name, sections: sections, done: make(chan string, 1)}
	p.queue <- j
	return <-j.done
}

func main() {
	p := newPool(3, 16)
	s := svc.Start("jobqueue")
	s.Handle("/report", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("sections"))
		fmt.Fprintln(w, p.submit(r.URL.Query().Get("name"), n))
	})
	s.Handle("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s.Rate(60, func(i int) {
		sections := 0
		if (i+1)%40 == 0 { // now and then a full report: three levels of sections
			sections = 3
		}
		s.Get(fmt.Sprintf("/report?name=r%d&sections=%d", i, sections))
	})
	s.Workers(1, 500*time.Millisecond, func(int) { s.Get("/healthz") })
	s.Serve()
}
