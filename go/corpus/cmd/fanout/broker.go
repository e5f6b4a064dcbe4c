package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// policy is how the broker treats its subscribers; main picks it from -variant.
type policy struct {
	retain        int  // messages kept per topic for replay (ring)
	retainAll     bool // the replay log is appended to and never trimmed
	holdWhileSend bool // deliveries block on full buffers with the broker locked
	spinWhenFull  bool // a full buffer is retried until it has room
	copyPerSub    bool // each subscriber gets its own re-encoded envelope
	drainInLock   bool // Unsubscribe waits for the consumer to finish with the broker locked
}

type message struct {
	Topic string
	Seq   uint64
	Key   string
	At    time.Time
	Body  []byte
}

type subscription struct {
	id      uint64
	topic   string
	ch      chan *message
	quit    chan struct{} // closed by Unsubscribe
	done    chan struct{} // closed by the consumer once it has seen quit and drained ch
	dropped atomic.Int64
}

type topic struct {
	name string
	seq  uint64
	subs map[uint64]*subscription
	log  []*message // replay: a ring of `retain` or, if retainAll, everything
	head int
}

type broker struct {
	p      policy
	mu     sync.RWMutex
	topics map[string]*topic
	nextID uint64

	published atomic.Int64
	delivered atomic.Int64
}

func newBroker(p policy) *broker {
	return &broker{p: p, topics: map[string]*topic{}}
}

func (b *broker) topicLocked(name string) *topic {
	t := b.topics[name]
	if t == nil {
		t = &topic{name: name, subs: map[uint64]*subscription{}}
		b.topics[name] = t
	}
	return t
}

// Subscribe registers a subscriber with a buffer of `depth` messages. The caller consumes
// it with sub.consume and calls Unsubscribe when finished.
func (b *broker) Subscribe(name string, depth int) *subscription {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nextID++
	s := &subscription{id: b.nextID, topic: name, ch: make(chan *message, depth),
		quit: make(chan struct{}), done: make(chan struct{})}
	b.topicLocked(name).subs[s.id] = s
	return s
}

func (b *broker) Unsubscribe(s *subscription) {
	b.mu.Lock()
	t := b.topics[s.topic]
	if t == nil || t.subs[s.id] == nil {
		b.mu.Unlock()
		return
	}
	delete(t.subs, s.id)
	close(s.quit)
	if b.p.drainInLock {
		// nothing may be published to the topic until this consumer has finished
		<-s.done // FAULT(deadlock:drain-in-lock)
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	<-s.done
}

// Replay returns up to n of the topic's retained messages, oldest first.
func (b *broker) Replay(name string, n int) []*message {
	b.mu.RLock()
	defer b.mu.RUnlock()
	t := b.topics[name]
	if t == nil {
		return nil
	}
	var out []*message
	if b.p.retainAll || len(t.log) < b.p.retain {
		out = t.log
	} else {
		out = append(append([]*message(nil), t.log[t.head:]...), t.log[:t.head]...)
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return append([]*message(nil), out...)
}

func (b *broker) Publish(name, key string, body []byte) {
	m := &message{Topic: name, Key: key, At: time.Now(), Body: body}
	b.published.Add(1)
	b.mu.Lock()
	t := b.topicLocked(name)
	t.seq++
	m.Seq = t.seq
	switch {
	case b.p.retainAll:
		t.log = append(t.log, m) // FAULT(memory-leak:retain-all)
	case len(t.log) < b.p.retain:
		t.log = append(t.log, m)
	case b.p.retain > 0:
		t.log[t.head] = m
		t.head = (t.head + 1) % b.p.retain
	}
	if b.p.holdWhileSend {
		// in-order delivery: nobody publishes to any topic until every subscriber has it
		for _, s := range t.subs {
			s.ch <- m // FAULT(lock-contention:send-in-lock)
			b.delivered.Add(1)
		}
		b.mu.Unlock()
		return
	}
	subs := make([]*subscription, 0, len(t.subs))
	for _, s := range t.subs {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		b.deliver(s, m)
	}
}

type envelope struct {
	Topic   string            `json:"topic"`
	Seq     uint64            `json:"seq"`
	Key     string            `json:"key"`
	Sent    string            `json:"sent"`
	Headers map[string]string `json:"headers"`
	Body    []byte            `json:"body"`
}

func (b *broker) deliver(s *subscription, m *message) {
	if b.p.copyPerSub {
		// subscribers may scribble on what they get: each gets its own encoded copy
		env := envelope{Topic: m.Topic, Seq: m.Seq, Key: m.Key, Sent: m.At.Format(time.RFC3339Nano),
			Headers: map[string]string{"subscriber": fmt.Sprintf("sub-%d", s.id), "trace": fmt.Sprintf("%x-%d", m.Seq, s.id)}}
		env.Body = append([]byte(nil), m.Body...)
		raw, _ := json.Marshal(&env) // FAULT(gc-pressure:copy-per-subscriber)
		var back envelope
		_ = json.Unmarshal(raw, &back)
		m = &message{Topic: back.Topic, Seq: back.Seq, Key: back.Key, At: m.At, Body: back.Body}
	}
	if b.p.spinWhenFull {
		// never drop: a full buffer is tried again until the consumer makes room
		for {
			select {
			case s.ch <- m: // FAULT(cpu-saturation:spin-when-full)
				b.delivered.Add(1)
				return
			case <-s.quit:
				return
			default:
			}
		}
	}
	select {
	case s.ch <- m:
		b.delivered.Add(1)
	case <-s.quit:
	default:
		s.dropped.Add(1) // a slow subscriber loses messages rather than holding others up
	}
}

// consume hands each message to handle until the subscription is cancelled, then
// handles what is still buffered, calls closed (if any) and reports done.
func (s *subscription) consume(handle func(*message), closed func()) {
	defer close(s.done)
	if closed != nil {
		defer closed()
	}
	for {
		select {
		case m := <-s.ch:
			handle(m)
		case <-s.quit:
			for {
				select {
				case m := <-s.ch:
					handle(m)
				default:
					return
				}
			}
		}
	}
}
