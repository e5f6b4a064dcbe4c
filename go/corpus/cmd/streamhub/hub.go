package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type event struct {
	ID    uint64
	Topic string
	Kind  string
	Data  []byte
	At    time.Time
	frame []byte // the SSE frame, formatted once
}

// topic keeps recent events for replay and wakes long polls on each publish.
type topic struct {
	mu   sync.Mutex
	hist []event
	wake chan struct{}
	cap  int
}

func (t *topic) add(ev event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.hist = append(t.hist, ev) // FAULT(memory-leak:unbounded-history)
	if t.cap > 0 && len(t.hist) > t.cap {
		t.hist = append(t.hist[:0:0], t.hist[len(t.hist)-t.cap/2:]...)
	}
	close(t.wake)
	t.wake = make(chan struct{})
}

// since returns the events after id, or a channel closed at the next publish.
func (t *topic) since(id uint64) ([]event, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := len(t.hist)
	for i > 0 && t.hist[i-1].ID > id {
		i--
	}
	if i == len(t.hist) {
		return nil, t.wake
	}
	return append([]event(nil), t.hist[i:]...), nil
}

// subscriber is one open event stream.
type subscriber struct {
	id       uint64
	patterns []string
	compiled []*regexp.Regexp
	in       chan event
	out      chan []byte
	done     chan struct{}
	dropped  atomic.Int64
	// with direct writes the publisher writes to the connection itself
	w  http.ResponseWriter
	fl http.Flusher
}

type hub struct {
	m        mode
	mu       sync.Mutex // guards subs, topics, archive
	subs     map[*subscriber]struct{}
	topics   map[string]*topic
	archive  chan event
	seq      atomic.Uint64
	nextSub  atomic.Uint64
	archived atomic.Int64
}

func newHub(m mode) *hub {
	return &hub{m: m, subs: map[*subscriber]struct{}{}, topics: map[string]*topic{},
		archive: make(chan event, 16)}
}

func (h *hub) topic(name string) *topic {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.topics[name]
	if t == nil {
		t = &topic{wake: make(chan struct{}), cap: h.m.historyCap}
		h.topics[name] = t
	}
	return t
}

// globRegexp turns a topic glob (prices.*, orders.eu.#) into a regular expression.
func globRegexp(glob string) string {
	var b strings.Builder
	b.WriteString("^")
	for _, part := range strings.Split(glob, ".") {
		if b.Len() > 1 {
			b.WriteString(`\.`)
		}
		switch part {
		case "*":
			b.WriteString(`[^.]+`)
		case "#":
			b.WriteString(`.*`)
		default:
			b.WriteString(regexp.QuoteMeta(part))
		}
	}
	b.WriteString("$")
	return b.String()
}

func (s *subscriber) wants(h *hub, topic string) bool {
	for i, p := range s.patterns {
		var re *regexp.Regexp
		if h.m.compileFilters {
			re = regexp.MustCompile(globRegexp(p)) // FAULT(cpu-saturation:filter-recompile)
		} else {
			re = s.compiled[i]
		}
		if re.MatchString(topic) {
			return true
		}
	}
	return false
}

func sseFrame(ev *event) []byte {
	b := make([]byte, 0, len(ev.Data)+64)
	b = append(b, "id: "...)
	b = strconv.AppendUint(b, ev.ID, 10)
	b = append(b, "\nevent: "...)
	b = append(b, ev.Kind...)
	b = append(b, "\ndata: "...)
	b = append(b, ev.Data...)
	return append(b, "\n\n"...)
}

// publish records an event and hands it to every interested stream.
func (h *hub) publish(topicName, kind string, data []byte) uint64 {
	ev := event{ID: h.seq.Add(1), Topic: topicName, Kind: kind, Data: data, At: time.Now()}
	ev.frame = sseFrame(&ev)
	h.topic(topicName).add(ev)

	h.mu.Lock()
	for s := range h.subs {
		if !s.wants(h, topicName) {
			continue
		}
		if h.m.directWrite {
			if _, err := s.w.Write(ev.frame); err == nil { // FAULT(lock-contention:direct-write)
				s.fl.Flush()
			}
			continue
		}
		select {
		case s.in <- ev:
		default:
			s.dropped.Add(1) // a slow browser misses events and replays on reconnect
		}
	}
	if h.m.archiveLocked {
		h.archive <- ev // FAULT(deadlock:archive-under-lock)
		h.mu.Unlock()
		return ev.ID
	}
	h.mu.Unlock()
	h.archive <- ev
	return ev.ID
}

// archiver writes every event to cold storage in batches and records the audience.
func (h *hub) archiver() {
	batch := make([]event, 0, 64)
	for ev := range h.archive {
		batch = append(batch, ev)
		if len(batch) < cap(batch) && len(h.archive) > 0 {
			continue
		}
		// a storage write: usually quick, now and then a long stall
		d := time.Duration(1+rand.IntN(3)) * time.Millisecond
		if rand.IntN(100) < 3 {
			d = time.Duration(150+rand.IntN(300)) * time.Millisecond
		}
		time.Sleep(d)
		h.archived.Add(int64(len(batch)))
		batch = batch[:0]
		h.audience()
	}
}

// audience counts open streams, for the archive's metadata.
func (h *hub) audience() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

func (h *hub) subscribe(patterns []string, w http.ResponseWriter) *subscriber {
	s := &subscriber{id: h.nextSub.Add(1), patterns: patterns, in: make(chan event, 64),
		out: make(chan []byte), done: make(chan struct{})}
	for _, p := range patterns {
		s.compiled = append(s.compiled, regexp.MustCompile(globRegexp(p)))
	}
	if h.m.directWrite {
		s.w, s.fl = w, w.(http.Flusher)
	} else {
		go s.forward(h)
	}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	close(s.done)
}

// forward turns a stream's events into frames for its handler.
func (s *subscriber) forward(h *hub) {
	for {
		select {
		case ev := <-s.in:
			frame := ev.frame
			if h.m.frameEach {
				frame = []byte(fmt.Sprintf("id: %d\n", ev.ID) + fmt.Sprintf("event: %s\n", ev.Kind) + // FAULT(gc-pressure:frame-sprintf)
					"data: " + string(ev.Data) + "\n\n")
			}
			select {
			case s.out <- frame:
			case <-s.done:
				return
			}
		case <-s.done:
			return
		}
	}
}
