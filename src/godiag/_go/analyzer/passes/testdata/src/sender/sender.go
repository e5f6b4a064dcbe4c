package sender

import (
	"context"
	"errors"
	"os"
	"time"
)

func fetch() int { return 1 }

func timeout() (int, error) {
	ch := make(chan int)
	go func() {
		ch <- fetch() // want `goroutine sends on unbuffered channel ch whose only receive is in a select`
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(time.Second):
		return 0, errors.New("timeout")
	}
}

func cancelled(ctx context.Context) (int, error) {
	ch := make(chan int, 0)
	go func() {
		ch <- fetch() // want `goroutine sends on unbuffered channel ch whose only receive`
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func errorPath(check func() error) (int, error) {
	ch := make(chan int)
	go func() {
		ch <- fetch() // want `the function can return \(line \d+\) before receiving`
	}()
	if err := check(); err != nil {
		return 0, err
	}
	return <-ch, nil
}

// Buffered: the sender always completes.
func buffered() (int, error) {
	ch := make(chan int, 1)
	go func() { ch <- fetch() }()
	select {
	case v := <-ch:
		return v, nil
	case <-time.After(time.Second):
		return 0, errors.New("timeout")
	}
}

// The sender itself gives up on cancellation.
func senderSelects(ctx context.Context) (int, error) {
	ch := make(chan int)
	go func() {
		select {
		case ch <- fetch():
		case <-ctx.Done():
		}
	}()
	select {
	case v := <-ch:
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// Always received.
func plain() int {
	ch := make(chan int)
	go func() { ch <- fetch() }()
	return <-ch
}

// Return before the goroutine starts does not strand it.
func earlyBeforeGo(bad bool) int {
	if bad {
		return 0
	}
	ch := make(chan int)
	go func() { ch <- fetch() }()
	return <-ch
}

// One goroutine feeds either the result or the error channel; the select takes both.
func resultOrError(work func() (int, error)) (int, error) {
	res := make(chan int)
	errs := make(chan error)
	go func() {
		v, err := work()
		if err != nil {
			errs <- err
			return
		}
		res <- v
	}()
	select {
	case v := <-res:
		return v, nil
	case err := <-errs:
		return 0, err
	}
}

// First reply wins over an unbuffered channel: the slower senders leak.
func firstReply(replicas []string) int {
	c := make(chan int)
	for range replicas {
		go func() {
			c <- fetch() // want `goroutines started in a loop \(line \d+\) send on unbuffered channel c, which is received from once`
		}()
	}
	return <-c
}

// One receive per goroutine: every sender completes.
func gatherAll(replicas []string) int {
	c := make(chan int)
	for range replicas {
		go func() { c <- fetch() }()
	}
	sum := 0
	for range replicas {
		sum += <-c
	}
	return sum
}

// Start and receive in the same iteration.
func oneByOne(replicas []string) int {
	sum := 0
	for range replicas {
		c := make(chan int)
		go func() { c <- fetch() }()
		sum += <-c
	}
	return sum
}

type event struct{ id int }

type auditor struct {
	queue chan event
	other chan event
	safe  chan event
}

func newAuditor() *auditor {
	return &auditor{queue: make(chan event, 8), other: make(chan event, 8), safe: make(chan event, 8)}
}

func write(event) error { return nil }

// run stops on the first write error, leaving queue undrained.
func (a *auditor) run() {
	for ev := range a.queue {
		if err := write(ev); err != nil {
			return
		}
	}
}

func (a *auditor) record(ev event) {
	go func() {
		a.queue <- ev // want `goroutine sends on a.queue, whose only receiver is the range loop at line \d+, which can stop`
	}()
}

// runAll keeps draining whatever happens.
func (a *auditor) runAll() {
	for ev := range a.safe {
		_ = write(ev)
	}
}

func (a *auditor) recordSafe(ev event) {
	go func() { a.safe <- ev }()
}

// other has two receivers: one stopping loop does not strand the senders.
func (a *auditor) runOther() {
	for ev := range a.other {
		if write(ev) != nil {
			return
		}
	}
}

func (a *auditor) drainOther() {
	for {
		<-a.other
	}
}

func (a *auditor) recordOther(ev event) {
	go func() { a.other <- ev }()
}

// The sender gives up with the request.
func (a *auditor) recordCtx(ctx context.Context, ev event) {
	go func() {
		select {
		case a.queue <- ev:
		case <-ctx.Done():
		}
	}()
}

// Two sends in one goroutine (one per branch): still abandoned when the loop's
// select takes the stop case.
func closeLoop(stop chan bool, ok func() bool) {
	for {
		done := make(chan bool)
		go func() {
			if !ok() {
				done <- false // want `goroutine sends on unbuffered channel done whose only receive is in a select`
				return
			}
			done <- true
		}()
		select {
		case <-stop:
			return
		case <-done:
		}
	}
}

// Sends from two different goroutines on one channel: not followed (silent).
func twoSenders(stop chan bool) {
	done := make(chan bool)
	go func() { done <- true }()
	go func() { done <- false }()
	select {
	case <-stop:
	case <-done:
	}
}

// Two sends in one goroutine, received without a way out: silent.
func closeLoopOK(ok func() bool) bool {
	done := make(chan bool)
	go func() {
		if !ok() {
			done <- false
			return
		}
		done <- true
	}()
	return <-done
}

// The goroutine either sends an error or closes done, and returns: the select
// takes whichever happens. Silent.
func errOrDone(fetch func() error) error {
	errs := make(chan error)
	done := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			if i == 3 {
				close(done)
				return
			}
			if err := fetch(); err != nil {
				errs <- err
				return
			}
			if err := fetch(); err != nil {
				errs <- err
				return
			}
		}
	}()
	select {
	case err := <-errs:
		return err
	case <-done:
		return nil
	}
}

// A server loop that can return on stop, and a request method started as a goroutine.
type node struct {
	status chan chan int
	stop   chan struct{}
	done   chan struct{}
}

func newNode() *node {
	return &node{status: make(chan chan int), stop: make(chan struct{}), done: make(chan struct{})}
}

func (n *node) run() {
	for {
		select {
		case c := <-n.status:
			c <- 1
		case <-n.stop:
			close(n.done)
			return
		}
	}
}

func (n *node) Status() int {
	c := make(chan int, 1)
	n.status <- c // want `goroutine sends on n.status, whose only receiver is the select loop at line \d+, which can stop`
	return <-c
}

func startNode() {
	n := newNode()
	go n.run()
	go n.Status()
	close(n.stop)
}

// The requester also selects on done: silent.
type node2 struct {
	status chan chan int
	done   chan struct{}
	stop   chan struct{}
}

func newNode2() *node2 {
	return &node2{status: make(chan chan int), stop: make(chan struct{}), done: make(chan struct{})}
}

func (n *node2) run() {
	for {
		select {
		case c := <-n.status:
			c <- 1
		case <-n.stop:
			close(n.done)
			return
		}
	}
}

func (n *node2) Status() int {
	c := make(chan int, 1)
	select {
	case n.status <- c:
	case <-n.done:
		return 0
	}
	return <-c
}

func startNode2() {
	n := newNode2()
	go n.run()
	go n.Status()
}

// The loop never returns: silent.
type pump struct{ in chan int }

func newPump() *pump { return &pump{in: make(chan int)} }

func (p *pump) loop(tick chan struct{}) {
	for {
		select {
		case <-p.in:
		case <-tick:
		}
	}
}

func (p *pump) push() { p.in <- 1 }

func startPump(tick chan struct{}) {
	p := newPump()
	go p.loop(tick)
	go p.push()
}

// A buffered queue with a select-loop consumer: silent.
type fetcher struct {
	next chan int
	done chan struct{}
}

func newFetcher() *fetcher { return &fetcher{next: make(chan int, 1), done: make(chan struct{})} }

func (f *fetcher) pull() {
	for {
		select {
		case <-f.next:
		case <-f.done:
			return
		}
	}
}

func (f *fetcher) request() { f.next <- 1 }

func startFetcher() {
	f := newFetcher()
	go f.pull()
	go f.request()
}

// A probe loop: the stop case returns without draining results, the timeout
// case drains it.
func probeLoop(stop chan bool, probe func() bool) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(time.Millisecond):
			results := make(chan bool)
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			go func() {
				results <- probe() // want `the select at line \d+ returns \(line \d+\) without receiving from it`
				close(results)
			}()
			select {
			case <-stop:
				cancel()
				return
			case <-results:
				cancel()
			case <-ctx.Done():
				cancel()
				<-results
			}
		}
	}
}

// Negatives: every case that leaves drains the channel; the other case is fed
// by the sender itself; the channel is closed by someone else.
func probeDrained(stop chan bool, probe func() bool) {
	results := make(chan bool)
	go func() {
		results <- probe()
		close(results)
	}()
	select {
	case <-stop:
		<-results
		return
	case <-results:
	}
	<-results
}

func probeSibling(probe func() bool) bool {
	results := make(chan bool)
	failed := make(chan struct{})
	go func() {
		if !probe() {
			close(failed)
			return
		}
		results <- true
	}()
	select {
	case <-failed:
		return false
	case v := <-results:
		return v
	}
	return <-results
}

func probeClosedElsewhere(stop chan bool, probe func() bool) {
	results := make(chan bool)
	go func() {
		results <- probe()
	}()
	defer close(results)
	select {
	case <-stop:
		return
	case <-results:
	}
	<-results
}

const spans = 6

// A pipeline whose consumer returns on cancellation: the producer has two more
// values than the buffer holds and blocks on the first that does not fit.
func restore(ctx context.Context) bool {
	ready := make(chan bool, spans)
	go func() {
		defer close(ready)
		scatter(ready)
	}()
	for r := range ready {
		select {
		case <-ctx.Done():
			return r
		}
	}
	return true
}

func scatter(ready chan bool) {
	for i := 0; i < spans+2; i++ {
		ready <- i != 0 // want `goroutine sends on ready more times than the channel holds, but the for range over ready at line \d+ can leave early`
	}
}

func firstError(items []int, check func(int) error) error {
	errs := make(chan error)
	go func() {
		for _, it := range items {
			errs <- check(it) // want `for range over errs at line \d+ can leave early`
		}
		close(errs)
	}()
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Negatives: the buffer holds every value; the consumer drains to the end; the
// producer selects on a done channel; the consumer keeps draining after it
// stops using the values; one value only.
func roomForAll(ctx context.Context) bool {
	ready := make(chan bool, spans+2)
	go func() {
		defer close(ready)
		for i := 0; i < spans+2; i++ {
			ready <- true
		}
	}()
	for r := range ready {
		if ctx.Err() != nil {
			return r
		}
	}
	return true
}

func drainsAll(items []int, check func(int) error) error {
	errs := make(chan error)
	go func() {
		for _, it := range items {
			errs <- check(it)
		}
		close(errs)
	}()
	var first error
	for err := range errs {
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

func producerSelects(ctx context.Context, items []int) int {
	out := make(chan int)
	go func() {
		defer close(out)
		for _, it := range items {
			select {
			case out <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	for v := range out {
		if v < 0 {
			return v
		}
	}
	return 0
}

func drainsAfter(items []int) int {
	out := make(chan int)
	go func() {
		defer close(out)
		for _, it := range items {
			out <- it
		}
	}()
	defer func() {
		for range out {
		}
	}()
	for v := range out {
		if v < 0 {
			return v
		}
	}
	return 0
}

func single(check func() error) error {
	errs := make(chan error)
	go func() {
		errs <- check()
		close(errs)
	}()
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// A dispatcher loop that only os.Exit leaves: the ticker case comes back to the
// receive, so the workers' sends are always taken. Silent.
func dispatchForever(n int, tick <-chan time.Time, report func(int)) {
	res := make(chan int)
	for i := 0; i < n; i++ {
		go func() {
			for {
				res <- fetch()
			}
		}()
	}
	runs := 0
	for {
		select {
		case v := <-res:
			runs += v
			if runs > 100 {
				os.Exit(0)
			}
		case <-tick:
			report(runs)
		}
	}
}

// The same loop with a stop case that returns: the workers are left sending.
func dispatchUntilStop(stop <-chan struct{}, tick <-chan time.Time, report func(int)) {
	res := make(chan int)
	go func() {
		res <- fetch() // want `goroutine sends on unbuffered channel res whose only receive is in a select`
	}()
	for {
		select {
		case v := <-res:
			report(v)
		case <-tick:
			report(0)
		case <-stop:
			return
		}
	}
}
