// logpipe ingests batches of log lines over HTTP, parses them in a pipeline
// stage and keeps per-level counters.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"godiag.scenarios/internal/svc"
)

const maxLine = 512

var errLineTooLong = errors.New("log line too long")

type pipeline struct {
	byLevel [4]atomic.Int64
}

var levels = []string{"DEBUG", "INFO", "WARN", "ERROR"}

// parse is the pipeline stage: it classifies lines until its input is closed.
func (p *pipeline) parse(lines <-chan string, done chan<- int) {
	n := 0
	for line := range lines { // FAULT(goroutine-leak)
		for i, lv := range levels {
			if strings.Contains(line, lv) {
				p.byLevel[i].Add(1)
				break
			}
		}
		n++
	}
	done <- n
}

// ingest feeds one batch through the parse stage.
func (p *pipeline) ingest(body io.Reader) (int, error) {
	lines := make(chan string)
	done := make(chan int, 1)
	go p.parse(lines, done)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) > maxLine {
			return 0, errLineTooLong
		}
		lines <- sc.Text()
	}
	close(lines)
	return <-done, nil
}

func batch(i int) []byte {
	var b bytes.Buffer
	for j := 0; j < 40; j++ {
		fmt.Fprintf(&b, "2024-05-01T10:00:%02d %s request id=%d path=/api/v1/items/%d\n", j, levels[(i+j)%4], i, j)
	}
	if i%3 == 0 { // some clients send a stack trace on one line
		b.WriteString(strings.Repeat("panic: runtime error at frame; ", 30) + "\n")
	}
	return b.Bytes()
}

func main() {
	p := &pipeline{}
	s := svc.Start("logpipe")
	s.Handle("/ingest", func(w http.ResponseWriter, r *http.Request) {
		n, err := p.ingest(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "ingested %d\n", n)
	})
	s.Rate(80, func(i int) { s.Post("/ingest", "text/plain", batch(i)) })
	s.Serve()
}
