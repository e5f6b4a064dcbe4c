package orphanrecv

import (
	"context"
	"time"
)

type recvBuffer struct{ c chan bool }

func (b *recvBuffer) get() <-chan bool { return b.c }

type reader struct{ recv *recvBuffer }

// Positive: the buffer's channel is made but nothing sends on it or closes it;
// the read waits through a receive-only getter.
func (r *reader) Read() {
	select {
	case <-r.recv.get(): // want `receive from c blocks forever: nothing in the package sends on c or closes it`
	}
}

func newReader() *reader { return &reader{recv: &recvBuffer{c: make(chan bool)}} }

// Positive: a local handed to a function that never uses it.
func watch(done chan bool) {}

func dial() {
	doneChan := make(chan bool)
	go watch(doneChan)
	<-doneChan // want `receive from doneChan blocks forever`
}

type stopper struct{ quiescer chan struct{} }

func (s *stopper) ShouldQuiesce() <-chan struct{} {
	if s == nil {
		return nil
	}
	return s.quiescer
}

// Positive: a range over it never ends either.
func (s *stopper) loop() {
	for range s.quiescer { // want `receive from quiescer blocks forever`
	}
}

func newStopper() *stopper { return &stopper{quiescer: make(chan struct{})} }

// Negative: closed somewhere.
type closer struct{ done chan struct{} }

func newCloser() *closer                { return &closer{done: make(chan struct{})} }
func (c *closer) Close()                { close(c.done) }
func (c *closer) wait()                 { <-c.done }
func (c *closer) Done() <-chan struct{} { return c.done }

// Negative: sent on by a goroutine.
func result() int {
	ch := make(chan int)
	go func() { ch <- 1 }()
	return <-ch
}

// Negative: handed to a function that sends on it.
func produce(out chan int) { out <- 1 }

func consume() int {
	ch := make(chan int)
	go produce(ch)
	return <-ch
}

// Negative: handed to other code (could do anything with it).
func external() {
	ch := make(chan time.Time)
	go func(c chan time.Time) { c <- time.Now() }(ch)
	<-ch
}

// Negative: the orphan case in a select with a way out blocks nothing.
func withCtx(ctx context.Context) {
	idle := make(chan struct{})
	select {
	case <-idle:
	case <-ctx.Done():
	}
}

// Negative: an alias may be closed.
type aliased struct{ stop chan struct{} }

func (a *aliased) init() { a.stop = make(chan struct{}) }
func (a *aliased) halt() {
	s := a.stop
	close(s)
}
func (a *aliased) wait() { <-a.stop }

// Negative: exported field: other packages may close it.
type Public struct{ Done chan struct{} }

func NewPublic() *Public { return &Public{Done: make(chan struct{})} }
func (p *Public) wait()  { <-p.Done }

// Negative: a bidirectional getter hands the channel out.
type handout struct{ ch chan int }

func newHandout() *handout     { return &handout{ch: make(chan int)} }
func (h *handout) C() chan int { return h.ch }
func (h *handout) wait() int   { return <-h.ch }
