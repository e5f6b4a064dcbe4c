package orphansend

import (
	"context"
	"errors"
)

type watchChan struct {
	ctx        context.Context
	cancel     context.CancelFunc
	resultChan chan bool
	errChan    chan error
}

// Positive: nothing in the package ever receives from resultChan.
func (wc *watchChan) run() {
	select {
	case err := <-wc.errChan:
		wc.resultChan <- err != nil // want `send on resultChan blocks forever: nothing in the package receives from resultChan \(made unbuffered`
	case <-wc.ctx.Done():
	}
}

func (wc *watchChan) Stop() {
	wc.errChan <- errors.New("stop")
	wc.cancel()
}

func newWatchChan() *watchChan {
	ctx, cancel := context.WithCancel(context.Background())
	return &watchChan{ctx: ctx, cancel: cancel, resultChan: make(chan bool), errChan: make(chan error)}
}

// Positive: a local sent on by a goroutine, never received.
func fire() {
	ch := make(chan int)
	go func() {
		ch <- 1 // want `send on ch blocks forever`
	}()
}

// Negative: received.
func roundTrip() int {
	ch := make(chan int)
	go func() { ch <- 1 }()
	return <-ch
}

// Negative: buffered: sends complete until it is full.
func buffered() {
	ch := make(chan int, 1)
	ch <- 1
}

// Negative: handed out receive-only: the caller receives.
type feed struct{ out chan int }

func newFeed() *feed          { return &feed{out: make(chan int)} }
func (f *feed) C() <-chan int { return f.out }
func (f *feed) publish(v int) { f.out <- v }

// Negative: the send is in a select with a way out.
func trySend(ctx context.Context) {
	ch := make(chan int)
	select {
	case ch <- 1:
	case <-ctx.Done():
	}
}

// Negative: passed to code that may receive.
func handoff(consume func(chan int)) {
	ch := make(chan int)
	go consume(ch)
	ch <- 1
}

// Positive: the capacity is the caller's choice (0 in some calls).
type watcher struct{ result chan int }

func newWatcher(size int) *watcher { return &watcher{result: make(chan int, size)} }

func (w *watcher) emit(v int) {
	w.result <- v // want `send on result blocks forever`
}

func (w *watcher) stop() { close(w.result) }

// Negative: sized in place for its sends, counted with len.
func counted(total int, subscribe func(func(int))) {
	n := total * 2
	recvd := make(chan int, n)
	subscribe(func(v int) {
		recvd <- v
		_ = len(recvd)
	})
}
