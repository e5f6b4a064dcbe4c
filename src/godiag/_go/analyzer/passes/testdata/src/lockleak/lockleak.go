package lockleak

import (
	"errors"
	"sync"
)

type gossip struct {
	mu     sync.Mutex
	closed bool
	n      int
}

// Positive: break out of the loop with the lock held, nothing unlocks after it.
func (g *gossip) bootstrap() {
	for {
		g.mu.Lock()
		if g.closed {
			break // want `break leaves the loop leaves g.mu locked`
		}
		g.mu.Unlock()
	}
}

// Positive: continue with the lock held: the next iteration locks it again.
func (g *gossip) drain(items []int) {
	for _, it := range items {
		g.mu.Lock()
		if it < 0 {
			continue // want `continue starts the next iteration leaves g.mu locked`
		}
		g.n += it
		g.mu.Unlock()
	}
}

type client struct {
	mu     sync.RWMutex
	cancel func()
}

var errClosed = errors.New("closed")

// Positive: early return under RLock.
func (c *client) acquire() error {
	c.mu.RLock()
	if c.cancel == nil {
		return errClosed // want `it returns leaves c.mu locked \(RLock at line`
	}
	c.mu.RUnlock()
	return nil
}

// Positive: the end of the body is reached locked on one path.
func (g *gossip) count(add bool) {
	g.mu.Lock()
	if add {
		g.n++
		g.mu.Unlock()
		return
	}
	g.n--
} // want `the function ends leaves g.mu locked`

// Positive: a switch case returns locked.
func (g *gossip) pick(k int) int {
	g.mu.Lock()
	switch k {
	case 0:
		return g.n // want `it returns leaves g.mu locked`
	}
	g.mu.Unlock()
	return k
}

// Negative: every path unlocks.
func (g *gossip) ok1() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	g.n++
	g.mu.Unlock()
	return nil
}

// Negative: deferred unlock.
func (g *gossip) ok2() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0
	}
	return g.n
}

// Negative: break, then the code after the loop unlocks.
func (g *gossip) ok3() {
	for {
		g.mu.Lock()
		if g.closed {
			break
		}
		g.mu.Unlock()
	}
	g.mu.Unlock()
}

// Negative: a lock helper returns with the lock held on purpose (no unlock in it).
func (g *gossip) lock() *gossip {
	g.mu.Lock()
	return g
}

// Negative: conditional locking: the walk cannot tell, so it says nothing.
func (g *gossip) ok4(locked bool) {
	if !locked {
		g.mu.Lock()
	}
	g.n++
	if !locked {
		g.mu.Unlock()
	}
}

// Negative: an unlock helper may release it.
func (g *gossip) unlockAll() { g.mu.Unlock() }

func (g *gossip) ok5() {
	g.mu.Lock()
	if g.closed {
		g.unlockAll()
		return
	}
	g.mu.Unlock()
}

// Negative: an unlock closure deferred.
func (g *gossip) ok6() {
	g.mu.Lock()
	unlock := func() { g.mu.Unlock() }
	defer func() { unlock() }()
	if g.closed {
		return
	}
}

// Negative: panic leaves locked, but the goroutine dies.
func (g *gossip) ok7() {
	g.mu.Lock()
	if g.closed {
		panic("closed")
	}
	g.mu.Unlock()
}

// Negative: the lock is handed back with the return (an unlock func).
func (g *gossip) ok8() func() {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	return g.mu.Unlock
}

// Negative: continue after unlocking; a break out of a select inside the loop.
func (g *gossip) ok9(items []int, ch chan int) {
	for _, it := range items {
		g.mu.Lock()
		if it < 0 {
			g.mu.Unlock()
			continue
		}
		g.mu.Unlock()
		select {
		case <-ch:
			break
		default:
		}
	}
}

// Negative: called with the lock held, it releases it for a while and takes it back.
func (g *gossip) waitLocked() {
	g.mu.Unlock()
	g.n++
	g.mu.Lock()
}

type remote struct {
	client *client
	mu     sync.Mutex
}

// Positive: another mutex locked and unlocked in between does not hide the leak.
func (r *remote) acquire() error {
	for {
		r.client.mu.RLock()
		closed := r.client.cancel == nil
		r.mu.Lock()
		r.mu.Unlock()
		if closed {
			return errClosed // want `it returns leaves r.client.mu locked`
		}
		r.client.mu.RUnlock()
	}
}

// Negative: the return hands the lock to a helper that releases it.
func (g *gossip) updateAndUnlock() error {
	g.n++
	g.mu.Unlock()
	return nil
}

func (g *gossip) update() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	return g.updateAndUnlock()
}

// Negative: the loop keeps the lock from one iteration to the next; continue
// and return are its normal exits.
func (g *gossip) retry(op func() error) error {
	g.mu.Lock()
	for {
		g.mu.Unlock()
		err := op()
		g.mu.Lock()
		if g.closed {
			continue
		}
		if err == nil {
			g.mu.Unlock()
			return nil
		}
	}
}
