package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// export ships the day's records to the warehouse loader, one connection per chunk of
// rows, chunks in parallel.
func (s *service) export(ctx context.Context) runSummary {
	started := time.Now()
	recs := loadBatch(s.batchSize(12000), s.batches.Add(1))
	parts := chunks(recs, 400)
	sum := runSummary{Job: "ledger-export", Started: started, Records: len(recs), Chunks: len(parts)}
	if s.variant == "batch-lock" {
		// the run book is locked for the export so the status page sees it whole
		s.mu.Lock() // FAULT(lock-contention:batch-lock)
		defer s.mu.Unlock()
	}
	var wg sync.WaitGroup
	var failed sync.Once
	sem := make(chan struct{}, 4)
	for _, p := range parts {
		wg.Add(1)
		sem <- struct{}{}
		go func(p []record) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.ship(ctx, p); err != nil {
				failed.Do(func() { sum.Failed = true })
			}
		}(p)
	}
	wg.Wait()
	sum.Took = time.Since(started)
	if s.variant == "batch-lock" {
		s.last[sum.Job] = sum
		s.history = append(s.history, runDetail{summary: sum})
		if len(s.history) > keepRuns {
			s.history = append(s.history[:0], s.history[len(s.history)-keepRuns:]...)
		}
		return sum
	}
	s.record(sum)
	return sum
}

func (s *service) ship(ctx context.Context, rows []record) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.warehouse) // FAULT(connection-leak:sink-dial)
	if err != nil {
		return err
	}
	if s.variant != "sink-dial" {
		defer conn.Close()
	}
	// the loader reports progress and the final OK on its own schedule
	acks := make(chan string, 1)
	go readAcks(conn, acks)
	w := bufio.NewWriter(conn)
	if s.variant == "csv-concat" {
		body := ""
		for _, r := range rows {
			body += csvLine(r) // FAULT(gc-pressure:csv-concat)
		}
		_, _ = w.WriteString(body)
	} else {
		for _, r := range rows {
			writeCSV(w, r)
		}
	}
	if _, err := w.WriteString("COMMIT\n"); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	select {
	case ack := <-acks:
		if !strings.HasPrefix(ack, "OK") {
			return fmt.Errorf("warehouse: %q", ack)
		}
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("warehouse: no acknowledgement")
	case <-ctx.Done():
		return ctx.Err()
	}
}

// readAcks passes the loader's lines on until the connection ends.
func readAcks(conn net.Conn, acks chan<- string) {
	r := bufio.NewReader(conn)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		select {
		case acks <- line:
		default: // nobody waiting for this one
		}
	}
}

func writeCSV(w *bufio.Writer, r record) {
	var buf [128]byte
	b := strconv.AppendQuote(buf[:0], r.ID)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.Merchant), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, r.Amount, 10)
	b = append(b, ',')
	b = append(b, r.Currency...)
	b = append(b, ',')
	b = r.At.AppendFormat(b, time.RFC3339)
	b = append(b, ',')
	b = strconv.AppendBool(b, r.Refund)
	b = append(b, '\n')
	_, _ = w.Write(b)
}

// csvLine renders one row as the loader's CSV dialect.
func csvLine(r record) string {
	return fmt.Sprintf("%q,%d,%d,%s,%s,%t\n", r.ID, r.Merchant, r.Amount, r.Currency,
		r.At.Format(time.RFC3339), r.Refund)
}

// startWarehouse runs the warehouse loader this service exports to (in-process here): it
// reads rows until COMMIT, acknowledges, and waits for the client to hang up.
func startWarehouse() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go loadRows(c)
		}
	}()
	return ln.Addr().String(), nil
}

func loadRows(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	rows := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		if line == "COMMIT\n" {
			// the load itself
			time.Sleep(time.Duration(100+rand.IntN(200)) * time.Millisecond)
			fmt.Fprintf(c, "OK %d\n", rows)
			break
		}
		rows++
	}
	// the client closes when done; anything after COMMIT is discarded
	_, _ = io.Copy(io.Discard, r)
}
