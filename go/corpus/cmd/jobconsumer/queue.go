package main

import (
	"container/heap"
	"sync"
	"time"
)

// message is one job on the queue. Attempts counts deliveries so far.
type message struct {
	id       string
	kind     string
	body     []byte
	attempts int
	enqueued time.Time
}

// lease is a delivered, unacknowledged message: it becomes visible again when its
// deadline passes without an ack (the consumer died or took too long).
type lease struct {
	msg      *message
	receipt  uint64
	deadline time.Time
}

// delayed orders messages waiting out a retry backoff by the time they become visible.
type delayed []*pending

type pending struct {
	at  time.Time
	msg *message
}

func (d delayed) Len() int           { return len(d) }
func (d delayed) Less(i, j int) bool { return d[i].at.Before(d[j].at) }
func (d delayed) Swap(i, j int)      { d[i], d[j] = d[j], d[i] }
func (d *delayed) Push(x any)        { *d = append(*d, x.(*pending)) }
func (d *delayed) Pop() any {
	old := *d
	p := old[len(old)-1]
	*d = old[:len(old)-1]
	return p
}

// memQueue is an in-process work queue with the semantics of a hosted one: receive hands
// out a lease, ack deletes, nack makes the message visible again after a delay, and a
// message delivered maxAttempts times goes to the dead-letter list.
type memQueue struct {
	mu          sync.Mutex
	ready       []*message
	later       delayed
	leased      map[uint64]*lease
	dead        []*message // ring of the last deadCap dead letters, for inspection
	deadNext    int
	nextReceipt uint64
	wake        chan struct{} // one token per message made ready
	visibility  time.Duration
	maxAttempts int

	stats *queueStats
}

const deadCap = 512

type queueStats struct {
	mu                                  sync.Mutex
	enqueued, acked, retried, deadCount int64
	redelivered                         int64
	lastAck                             time.Time
}

func newQueue(visibility time.Duration, maxAttempts int) *memQueue {
	return &memQueue{
		leased:      make(map[uint64]*lease),
		wake:        make(chan struct{}, 1<<16),
		visibility:  visibility,
		maxAttempts: maxAttempts,
		stats:       &queueStats{},
	}
}

func (q *memQueue) send(m *message) {
	q.mu.Lock()
	q.ready = append(q.ready, m)
	q.mu.Unlock()
	q.stats.mu.Lock()
	q.stats.enqueued++
	q.stats.mu.Unlock()
	q.signal()
}

func (q *memQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default: // enough tokens outstanding that a receiver will find it anyway
	}
}

// receive blocks until a message is ready (or stop closes) and leases it.
func (q *memQueue) receive(stop <-chan struct{}) (*lease, bool) {
	for {
		q.mu.Lock()
		if len(q.ready) > 0 {
			m := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			m.attempts++
			q.nextReceipt++
			l := &lease{msg: m, receipt: q.nextReceipt, deadline: time.Now().Add(q.visibility)}
			q.leased[l.receipt] = l
			q.mu.Unlock()
			return l, true
		}
		q.mu.Unlock()
		select {
		case <-q.wake:
		case <-stop:
			return nil, false
		}
	}
}

// ack deletes a leased message. A stale receipt (the lease expired and the message
// went to someone else) is ignored, as hosted queues do.
func (q *memQueue) ack(receipt uint64) bool {
	q.mu.Lock()
	_, ok := q.leased[receipt]
	delete(q.leased, receipt)
	q.mu.Unlock()
	if ok {
		q.stats.mu.Lock()
		q.stats.acked++
		q.stats.lastAck = time.Now()
		q.stats.mu.Unlock()
	}
	return ok
}

// extend pushes a lease's deadline out (a long job's heartbeat).
func (q *memQueue) extend(receipt uint64, by time.Duration) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	l, ok := q.leased[receipt]
	if ok {
		l.deadline = time.Now().Add(by)
	}
	return ok
}

// nack gives the message back: visible again after delay, or dead-lettered when it has
// used up its attempts.
func (q *memQueue) nack(receipt uint64, delay time.Duration) {
	q.mu.Lock()
	l, ok := q.leased[receipt]
	if !ok {
		q.mu.Unlock()
		return
	}
	delete(q.leased, receipt)
	dead := l.msg.attempts >= q.maxAttempts
	if dead {
		q.bury(l.msg)
	} else {
		heap.Push(&q.later, &pending{at: time.Now().Add(delay), msg: l.msg})
	}
	q.mu.Unlock()
	q.stats.mu.Lock()
	if dead {
		q.stats.deadCount++
	} else {
		q.stats.retried++
	}
	q.stats.mu.Unlock()
}

func (q *memQueue) bury(m *message) {
	if len(q.dead) < deadCap {
		q.dead = append(q.dead, m)
		return
	}
	q.dead[q.deadNext] = m
	q.deadNext = (q.deadNext + 1) % deadCap
}

// sweep runs every tick: delayed messages whose backoff is over become ready, expired
// leases are redelivered.
func (q *memQueue) sweep(now time.Time) {
	made := 0
	var expired int64
	q.mu.Lock()
	for q.later.Len() > 0 && !q.later[0].at.After(now) {
		p := heap.Pop(&q.later).(*pending)
		q.ready = append(q.ready, p.msg)
		made++
	}
	for r, l := range q.leased {
		if now.After(l.deadline) {
			delete(q.leased, r)
			q.ready = append(q.ready, l.msg)
			made++
			expired++
		}
	}
	q.mu.Unlock()
	if expired > 0 {
		q.stats.mu.Lock()
		q.stats.redelivered += expired
		q.stats.mu.Unlock()
	}
	for ; made > 0; made-- {
		q.signal()
	}
}

func (q *memQueue) depth() (ready, inflight, delayedN, dead int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ready), len(q.leased), q.later.Len(), len(q.dead)
}
