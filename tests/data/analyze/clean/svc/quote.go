// Package svc is the healthy twin of the planted module: same shapes, no leaks.
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

// Quote gives up after the timeout; the buffer lets the sender finish anyway.
func Quote(ctx context.Context) (int, error) {
	ch := make(chan int, 1)
	go func() {
		ch <- slowQuote()
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

func (f *Fanout) Close() { close(f.events) }

func (f *Fanout) Run(handle func(string)) {
	for e := range f.events {
		handle(e)
	}
}

// Publish records under the lock and sends after releasing it.
func (f *Fanout) Publish(e string) {
	f.mu.Lock()
	f.subs = append(f.subs, e)
	f.mu.Unlock()
	f.events <- e
}

func Watch(parent context.Context, onStop func()) context.CancelFunc {
	ctx, cancel := context.WithCancel(parent)
	go func() {
		<-ctx.Done()
		onStop()
	}()
	return cancel
}

func ProcessAll(items []string, work func(string) error) {
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func(it string) {
			defer wg.Done()
			if err := work(it); err != nil {
				return
			}
		}(it)
	}
	wg.Wait()
}

func Fetch(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return io.ReadAll(resp.Body)
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConns: 4}}

func Ping(url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func Heartbeat(ctx context.Context, beat func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			beat()
		case <-ctx.Done():
			return
		}
	}
}
