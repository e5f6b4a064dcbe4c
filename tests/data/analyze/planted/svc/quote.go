// Package svc is a small service with one planted leak per analyzer.
package svc

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"
)

func slowQuote() int { time.Sleep(time.Millisecond); return 42 }

// Quote gives up after the timeout; the sender then blocks forever.
func Quote(ctx context.Context) (int, error) {
	ch := make(chan int)
	go func() {
		ch <- slowQuote() // PLANTED: abandoned-sender
	}()
	select {
	case q := <-ch:
		return q, nil
	case <-time.After(50 * time.Millisecond):
		return 0, errors.New("quote timed out")
	}
}

type Fanout struct {
	mu     sync.Mutex
	events chan string
	subs   []string
}

func NewFanout() *Fanout { return &Fanout{events: make(chan string)} }

// Run drains events; nobody ever closes the channel.
func (f *Fanout) Run(handle func(string)) {
	for e := range f.events { // PLANTED: unclosed-range
		handle(e)
	}
}

// Publish sends while holding the lock.
func (f *Fanout) Publish(e string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs = append(f.subs, e)
	f.events <- e // PLANTED: lock-held-blocking
}

// Watch starts a watcher nobody can stop.
func Watch(parent context.Context, onStop func()) {
	ctx, _ := context.WithCancel(parent)
	go func() {
		<-ctx.Done() // PLANTED: lost-cancel-watcher
		onStop()
	}()
}

// ProcessAll waits for workers, one of which can skip Done.
func ProcessAll(items []string, work func(string) error) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func(it string) {
			if err := work(it); err != nil {
				return // PLANTED: waitgroup-missing-done
			}
			wg.Done()
		}(it)
	}
	wg.Wait()
}

// Fetch returns early on a bad status without closing the body.
func Fetch(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status) // PLANTED: unclosed-response-body
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// Ping builds a new transport on every call.
func Ping(url string) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 4}} // PLANTED: transport-per-request
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Heartbeat polls until the context ends, leaving its ticker behind.
func Heartbeat(ctx context.Context, beat func()) {
	for range time.Tick(time.Second) { // PLANTED: timer-leak
		if ctx.Err() != nil {
			return
		}
		beat()
	}
}
