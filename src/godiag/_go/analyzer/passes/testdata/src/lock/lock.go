package lock

import (
	"net/http"
	"sync"
	"time"
)

type cache struct {
	mu      sync.Mutex
	rw      sync.RWMutex
	updates chan string
	wg      sync.WaitGroup
	data    map[string]string
}

func (c *cache) send(k string) {
	c.mu.Lock()
	c.data[k] = "x"
	c.updates <- k // want `channel send on c.updates while holding c.mu`
	c.mu.Unlock()
}

func (c *cache) deferred() {
	c.rw.RLock()
	defer c.rw.RUnlock()
	time.Sleep(time.Millisecond) // a read lock only holds back writers: not reported
}

func (c *cache) sleepy() {
	c.mu.Lock()
	defer c.mu.Unlock()
	time.Sleep(time.Millisecond) // want `time.Sleep while holding c.mu`
}

// work is what c.wg counts; it needs c.mu, so waiting for it under c.mu deadlocks.
func (c *cache) work() {
	defer c.wg.Done()
	c.mu.Lock()
	c.data["w"] = "1"
	c.mu.Unlock()
}

func (c *cache) wait() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.wg.Wait() // want `WaitGroup.Wait while holding c.mu \(locked at line \d+\) and work, which would end the wait, takes c.mu too: deadlock`
}

func (c *cache) fetch(url string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp, err := http.Get(url) // want `http.Get while holding c.mu`
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (c *cache) unlockedFirst(k string) {
	c.mu.Lock()
	c.data[k] = "y"
	c.mu.Unlock()
	c.updates <- k // after Unlock: fine
}

func (c *cache) nonBlocking(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case c.updates <- k:
	default:
	}
}

func (c *cache) inGoroutine(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	go func() { c.updates <- k }()
}

// An early Unlock on one branch makes the rest ambiguous: not reported.
func (c *cache) branchy(k string) {
	c.mu.Lock()
	if k == "" {
		c.mu.Unlock()
		return
	}
	c.updates <- k
	c.mu.Unlock()
}

// Parking forever on purpose (the process is about to crash) waits for nothing.
func (c *cache) park() {
	c.mu.Lock()
	defer c.mu.Unlock()
	go panic("fatal")
	select {}
}

type notifier struct {
	mu    sync.Mutex
	ready chan struct{}
	subs  []chan int
}

func newNotifier() *notifier { return &notifier{ready: make(chan struct{}, 1)} }

// Sends on channels sized for them (or of unknown buffering) are not reported.
func (n *notifier) notify(v int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ready <- struct{}{}
	for _, ch := range n.subs {
		ch <- v
	}
}

func (n *notifier) collect(out chan<- int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	out <- len(n.subs)
}

func newCache() *cache { return &cache{updates: make(chan string), data: map[string]string{}} }

type syncer struct {
	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
	quit chan struct{}
}

func (s *syncer) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
}

// loop closes done on exit; it calls flush, which takes s.mu.
func (s *syncer) loop(tick <-chan time.Time) {
	defer close(s.done)
	for {
		select {
		case <-tick:
			s.flush()
		case <-s.stop:
			return
		}
	}
}

func (s *syncer) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.stop)
	<-s.done // want `channel receive from s.done while holding s.mu .* and loop, which would end the wait, takes s.mu too`
}

// Nothing that closes quit needs s.mu: a bounded, deliberate wait.
func (s *syncer) closer() { close(s.quit) }

func (s *syncer) Quit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	<-s.quit
}

// flushLocked writes to the backend; callers hold c.mu.
func (c *cache) flushLocked() {
	c.data = map[string]string{}
	time.Sleep(time.Millisecond)
}

func (c *cache) addAndFlush(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.data[k] = "z"
	c.flushLocked() // want `call to flushLocked, which calls time.Sleep \(line \d+\), while holding c.mu`
}

func (c *cache) readFlush() {
	c.rw.RLock()
	defer c.rw.RUnlock()
	c.flushLocked() // a read lock only holds back writers: not reported
}

// later sleeps only in a goroutine it starts: calling it under the lock does not block.
func (c *cache) later() {
	go func() { time.Sleep(time.Millisecond) }()
}

func (c *cache) spawnLocked() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.later()
}

func (c *cache) flushAfterUnlock() {
	c.mu.Lock()
	c.data["k"] = "v"
	c.mu.Unlock()
	c.flushLocked()
}

// Reentrant locking through a method on the same receiver.
type tokens struct {
	mu   sync.Mutex
	rw   sync.RWMutex
	vals map[string]string
}

func (t *tokens) get(k string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.vals[k]; ok {
		return v
	}
	return t.refresh(k)
}

func (t *tokens) refresh(k string) string {
	t.mu.Lock() // want `refresh locks t.mu again while its caller get already holds it`
	defer t.mu.Unlock()
	t.vals[k] = "new"
	return "new"
}

func (t *tokens) lookup(k string) string {
	t.rw.RLock()
	defer t.rw.RUnlock()
	return t.resolve(k)
}

func (t *tokens) resolve(k string) string {
	t.rw.RLock() // want `resolve locks t.rw again while its caller lookup already holds it`
	defer t.rw.RUnlock()
	return t.vals[k]
}

// refill is written to be called locked: it releases the lock around slow work.
func (t *tokens) refill(k string) {
	t.mu.Unlock()
	v := k + "!"
	t.mu.Lock()
	t.vals[k] = v
}

func (t *tokens) getOrRefill(k string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refill(k)
}

// Another instance's lock (a different object) is not a relock.
func (t *tokens) copyFrom(other *tokens) {
	t.mu.Lock()
	defer t.mu.Unlock()
	other.refreshRW()
}

func (t *tokens) refreshRW() {
	t.rw.Lock()
	defer t.rw.Unlock()
	t.vals = map[string]string{}
}

// A method locking another field of the same receiver.
func (t *tokens) both() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refreshRW()
}

// The call comes after the unlock.
func (t *tokens) afterUnlock(k string) string {
	t.mu.Lock()
	v := t.vals[k]
	t.mu.Unlock()
	_ = v
	return t.refresh(k)
}

// retry sleeps only when asked to pause first: not every call blocks.
func retry(pauseFirst bool, f func() bool) {
	if pauseFirst {
		time.Sleep(time.Millisecond)
	}
	for !f() {
	}
}

func (c *cache) resetWithRetry() {
	c.mu.Lock()
	defer c.mu.Unlock()
	retry(false, func() bool { return true })
}

// An embedded mutex: svm.Lock() locks svm itself, and so does the method it calls.
type serviceVM struct {
	sync.Mutex
	disks []string
}

func (svm *serviceVM) hotAdd() {
	svm.Lock()
	defer svm.Unlock()
	svm.hotRemove()
}

func (svm *serviceVM) hotRemove() {
	svm.Lock() // want `hotRemove locks svm again while its caller hotAdd already holds it`
	defer svm.Unlock()
	svm.disks = nil
}

// The helper that expects the lock held does not lock: silent.
func (svm *serviceVM) add(d string) {
	svm.Lock()
	defer svm.Unlock()
	svm.addLocked(d)
}

func (svm *serviceVM) addLocked(d string) { svm.disks = append(svm.disks, d) }

// A struct without an embedded mutex: its methods named Lock are not sync's.
type journal struct{ entries []string }

func (j *journal) Lock()   {}
func (j *journal) Unlock() {}
func (j *journal) flush() {
	j.Lock()
	j.Unlock()
}

// A notify helper that sends on an unbuffered channel, called under the lock.
type monitor struct {
	mu   sync.Mutex
	stop chan struct{}
	buf  chan struct{}
}

func newMonitor() *monitor {
	return &monitor{stop: make(chan struct{}), buf: make(chan struct{}, 1)}
}

func (m *monitor) closeMonitor() { m.stop <- struct{}{} }

func (m *monitor) stateChanged() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closeMonitor() // want `call to closeMonitor, which sends on unbuffered m.stop \(line \d+\), while holding m.mu`
}

// The helper sends on a buffered channel, or only under a condition: silent.
func (m *monitor) poke() { m.buf <- struct{}{} }
func (m *monitor) maybeStop(b bool) {
	if b {
		m.stop <- struct{}{}
	}
}

func (m *monitor) quiet(b bool) {
	m.mu.Lock()
	m.poke()
	m.maybeStop(b)
	m.mu.Unlock()
}

// The wait is inside the branch that unlocks after it; the waker needs the lock.
type client2 struct {
	mu      sync.Mutex
	awaken  chan struct{}
	streams []int
}

func newClient2() *client2 { return &client2{awaken: make(chan struct{})} }

func (t *client2) keepalive() {
	t.mu.Lock()
	if len(t.streams) < 1 {
		<-t.awaken // want `channel receive from t.awaken while holding t.mu \(locked at line \d+\) and newStream, which would end the wait, takes t.mu too: deadlock`
		t.mu.Unlock()
	} else {
		t.mu.Unlock()
	}
}

func (t *client2) newStream() {
	t.mu.Lock()
	t.streams = append(t.streams, 1)
	select {
	case t.awaken <- struct{}{}:
	default:
	}
	t.mu.Unlock()
}

// The branch unlocks before it waits: silent.
func (t *client2) keepaliveOK() {
	t.mu.Lock()
	if len(t.streams) < 1 {
		t.mu.Unlock()
		<-t.awaken
	} else {
		t.mu.Unlock()
	}
}
