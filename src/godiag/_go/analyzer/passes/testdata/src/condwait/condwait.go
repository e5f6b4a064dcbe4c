package condwait

import "sync"

type pool struct {
	mu           sync.Mutex
	activateWait *sync.Cond
	active       bool
}

func newPool() *pool {
	p := &pool{}
	p.activateWait = sync.NewCond(&p.mu)
	return p
}

// Positive: nothing ever signals activateWait.
func (p *pool) waitActive() {
	p.activateWait.L.Lock()
	for !p.active {
		p.activateWait.Wait() // want `activateWait.Wait\(\) sleeps forever: nothing in the package calls Signal or Broadcast on activateWait`
	}
	p.activateWait.L.Unlock()
}

// Negative: signalled.
type queue struct {
	mu    sync.Mutex
	cond  *sync.Cond
	items []int
}

func newQueue() *queue {
	q := &queue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *queue) get() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 {
		q.cond.Wait()
	}
	return q.items[0]
}

func (q *queue) put(v int) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	q.cond.Broadcast()
}

// Negative: handed to other code, which may signal it.
type gate struct{ c *sync.Cond }

func (g *gate) wait()                       { g.c.Wait() }
func (g *gate) register(f func(*sync.Cond)) { f(g.c) }

// Negative: exported field.
type Door struct{ Cond *sync.Cond }

func (d *Door) wait() { d.Cond.Wait() }
