package main

import (
	"container/list"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// behaviour selects how the inventory does its work; main sets it from -variant.
type behaviour struct {
	auditInsideLock  bool // journal the reservation while the totals are still locked
	restockWholeLock bool // restock takes the catalog lock for a whole batch
	keepHistory      bool // retain every reservation for the reconciliation report
	patternPerItem   bool // List matches with regexp.MatchString per item
	concatLabels     bool // labels rendered by concatenation
	followerDetached bool // a watch's follower runs under the server's context, not the stream's
	labelCache       int  // entries of the rendered-label cache (0: none)
}

type stockItem struct {
	mu sync.Mutex
	Item
	history []int // recent quantities, shown on the label
}

type reservation struct {
	at      time.Time
	orderID string
	snap    []byte
	receipt string
}

type inventory struct {
	b behaviour

	mu       sync.RWMutex // catalog map and the running totals
	catalog  map[string]*stockItem
	skus     []string
	reserved int64
	restocks int64

	ledgerMu sync.Mutex // idempotency: recent order ids
	ledger   map[string]ReserveReply
	recent   []reservation
	history  []reservation

	journalMu sync.Mutex
	journal   [4096]AuditRecord
	auditSeq  atomic.Uint64

	auditClient *grpc.ClientConn // the audit journal is a separate service; here it shares the process

	labels *labelCache
	base   context.Context // lives as long as the server
}

var regions = []string{"ams", "fra", "iad", "sjc", "nrt", "gru", "syd", "jnb"}

func newInventory(b behaviour, n int) *inventory {
	s := &inventory{b: b, catalog: make(map[string]*stockItem, n), ledger: map[string]ReserveReply{},
		base: context.Background()}
	if b.labelCache > 0 {
		s.labels = newLabelCache(b.labelCache)
	}
	for i := 0; i < n; i++ {
		sku := fmt.Sprintf("%c%c-%05d", 'A'+i%26, 'A'+(i/26)%26, i)
		it := &stockItem{Item: Item{SKU: sku, Name: fmt.Sprintf("part %d", i), Qty: 500 + i%300,
			Cents: int64(199 + (i*37)%9000), Rev: 1, Location: regions[i%len(regions)],
			Attrs: map[string]string{}}}
		for h := 0; h < 24; h++ {
			it.history = append(it.history, it.Qty+(h*31+i)%50)
		}
		for a := 0; a < 10; a++ {
			it.Attrs[fmt.Sprintf("attr%02d", a)] = fmt.Sprintf("v%d", (i*7+a)%97)
		}
		s.catalog[sku] = it
		s.skus = append(s.skus, sku)
	}
	return s
}

// find needs no lock: the catalogue's set of items is fixed once loaded.
func (s *inventory) find(sku string) (*stockItem, error) {
	it := s.catalog[sku]
	if it == nil {
		return nil, status.Errorf(codes.NotFound, "no sku %q", sku)
	}
	return it, nil
}

func (s *inventory) Lookup(ctx context.Context, req *LookupRequest) (*Item, error) {
	it, err := s.find(req.SKU)
	if err != nil {
		return nil, err
	}
	it.mu.Lock()
	out := it.Item
	out.Attrs = make(map[string]string, len(it.Attrs))
	for k, v := range it.Attrs {
		out.Attrs[k] = v
	}
	hist := append([]int(nil), it.history...)
	it.mu.Unlock()
	out.Label = s.label(&out, hist)
	return &out, nil
}

func (s *inventory) label(it *Item, hist []int) string {
	key := fmt.Sprintf("%s@%d", it.SKU, it.Rev)
	if s.labels != nil {
		if l, ok := s.labels.get(key); ok {
			return l
		}
	}
	var l string
	if s.b.concatLabels {
		l = concatLabel(it, hist)
	} else {
		l = buildLabel(it, hist)
	}
	if s.labels != nil {
		s.labels.put(key, l)
	}
	return l
}

func buildLabel(it *Item, hist []int) string {
	var sb strings.Builder
	sb.Grow(64 + 24*len(hist) + 16*len(it.Attrs))
	fmt.Fprintf(&sb, "%s %s $%d.%02d [%s]", it.SKU, it.Name, it.Cents/100, it.Cents%100, it.Location)
	for i, q := range hist {
		fmt.Fprintf(&sb, " t-%d:%d", len(hist)-i, q)
	}
	return sb.String()
}

func concatLabel(it *Item, hist []int) string {
	l := it.SKU + " " + it.Name + fmt.Sprintf(" $%d.%02d", it.Cents/100, it.Cents%100) + " [" + it.Location + "]"
	for round := 0; round < 8; round++ {
		for i, q := range hist {
			l = l + fmt.Sprintf(" t-%d:%d", len(hist)-i, q) // FAULT(gc-pressure:label-concat)
		}
	}
	return l
}

func (s *inventory) Reserve(ctx context.Context, req *ReserveRequest) (*ReserveReply, error) {
	s.ledgerMu.Lock()
	if prev, ok := s.ledger[req.OrderID]; ok {
		s.ledgerMu.Unlock()
		return &prev, nil
	}
	s.ledgerMu.Unlock()
	it, err := s.find(req.SKU)
	if err != nil {
		return nil, err
	}
	rec := AuditRecord{OrderID: req.OrderID, SKU: req.SKU, Delta: -req.Qty}
	it.mu.Lock()
	granted := it.Qty >= req.Qty
	if granted {
		it.Qty -= req.Qty
		it.Rev++
		it.history = append(it.history, it.Qty)
		if len(it.history) > 24 {
			it.history = it.history[1:]
		}
	}
	reply := ReserveReply{Granted: granted, Left: it.Qty}
	shown := it.Item
	shown.Label = buildLabel(&it.Item, it.history)
	snap, _ := json.Marshal(struct {
		Req     *ReserveRequest
		Item    Item
		History []int
		At      time.Time
	}{req, shown, it.history, time.Now()})
	s.mu.Lock()
	if granted {
		s.reserved += int64(req.Qty)
	}
	if granted && s.b.auditInsideLock {
		// the journal and the totals must never disagree, so the journal write happens
		// before anyone can see the new totals
		if err := s.journalReservation(ctx, &rec); err != nil { // FAULT(lock-contention:audit-in-lock)
			s.mu.Unlock()
			it.mu.Unlock()
			return nil, err
		}
	}
	s.mu.Unlock()
	it.mu.Unlock()
	if granted && !s.b.auditInsideLock {
		if err := s.journalReservation(ctx, &rec); err != nil {
			return nil, err
		}
	}
	r := reservation{at: time.Now(), orderID: req.OrderID, snap: snap, receipt: receipt(req, &shown)}
	s.ledgerMu.Lock()
	s.ledger[req.OrderID] = reply
	s.recent = append(s.recent, r)
	if s.b.keepHistory {
		s.history = append(s.history, r) // FAULT(memory-leak:reservation-history)
	}
	s.ledgerMu.Unlock()
	return &reply, nil
}

func receipt(req *ReserveRequest, it *Item) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "order %s: %d x %s (%s) at $%d.%02d\n", req.OrderID, req.Qty, it.SKU, it.Name, it.Cents/100, it.Cents%100)
	for k, v := range it.Attrs {
		fmt.Fprintf(&sb, "  %-12s %-20s warehouse=%s rev=%d\n", k, v, it.Location, it.Rev)
	}
	fmt.Fprintf(&sb, "  label: %s\n", it.Label)
	return sb.String()
}

func (s *inventory) journalReservation(ctx context.Context, rec *AuditRecord) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var ack AuditAck
	return s.auditClient.Invoke(ctx, method("Audit"), rec, &ack)
}

// Audit is the journal: it keeps the last records in a ring and pays for a durable write.
func (s *inventory) Audit(ctx context.Context, rec *AuditRecord) (*AuditAck, error) {
	seq := s.auditSeq.Add(1)
	s.journalMu.Lock()
	s.journal[seq%uint64(len(s.journal))] = *rec
	s.journalMu.Unlock()
	time.Sleep(4 * time.Millisecond) // the journal's storage round trip
	return &AuditAck{Seq: seq}, nil
}

// expireLedger forgets order ids older than the retry window.
func (s *inventory) expireLedger(window time.Duration) {
	for range time.Tick(time.Second) {
		cut := time.Now().Add(-window)
		s.ledgerMu.Lock()
		n := 0
		for n < len(s.recent) && s.recent[n].at.Before(cut) {
			delete(s.ledger, s.recent[n].orderID)
			n++
		}
		s.recent = append(s.recent[:0], s.recent[n:]...)
		s.ledgerMu.Unlock()
	}
}

// restock tops up a batch of items, books the units back into the totals and journals
// each top-up.
func (s *inventory) restock(batch []string) {
	if s.b.restockWholeLock {
		// one consistent view of the totals for the whole batch
		s.mu.Lock() // FAULT(deadlock:restock-batch-lock)
		defer s.mu.Unlock()
	}
	for _, sku := range batch {
		it := s.catalog[sku]
		if it == nil {
			continue
		}
		it.mu.Lock()
		add := 0
		if it.Qty < 900 { // back to par
			add = 900 - it.Qty
			it.Qty += add
			it.Rev++
		}
		checksum := 0
		for k, v := range it.Attrs { // recompute the item's catalogue checksum
			checksum += len(k) * len(v)
		}
		it.Attrs["checksum"] = fmt.Sprint(checksum)
		if !s.b.restockWholeLock {
			s.mu.Lock()
		}
		s.reserved -= int64(add)
		s.restocks++
		if !s.b.restockWholeLock {
			s.mu.Unlock()
		}
		it.mu.Unlock()
		if add > 0 {
			_ = s.journalReservation(s.base, &AuditRecord{OrderID: "restock", SKU: sku, Delta: add})
		}
	}
}

func (s *inventory) List(req *ListRequest, stream grpc.ServerStream) error {
	var re *regexp.Regexp
	if !s.b.patternPerItem {
		var err error
		if re, err = regexp.Compile(req.Pattern); err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
	}
	s.mu.RLock()
	skus := s.skus
	s.mu.RUnlock()
	sent := 0
	for _, sku := range skus {
		var ok bool
		if s.b.patternPerItem {
			ok, _ = regexp.MatchString(req.Pattern, sku) // FAULT(cpu-saturation:pattern-per-item)
		} else {
			ok = re.MatchString(sku)
		}
		if !ok {
			continue
		}
		it, err := s.find(sku)
		if err != nil {
			continue
		}
		it.mu.Lock()
		out := Item{SKU: it.SKU, Name: it.Name, Qty: it.Qty, Cents: it.Cents, Rev: it.Rev}
		it.mu.Unlock()
		if err := stream.SendMsg(&out); err != nil {
			return err
		}
		if sent++; req.Limit > 0 && sent >= req.Limit {
			break
		}
	}
	return nil
}

func (s *inventory) Watch(req *WatchRequest, stream grpc.ServerStream) error {
	it, err := s.find(req.SKU)
	if err != nil {
		return err
	}
	ctx := stream.Context()
	changes := make(chan StockChange)
	fctx := ctx
	if s.b.followerDetached {
		fctx = s.base // FAULT(goroutine-leak:watch-follower)
	}
	go s.follow(fctx, it, changes)
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c := <-changes:
			if err := stream.SendMsg(&c); err != nil {
				return err
			}
			if sent++; req.Max > 0 && sent >= req.Max {
				return nil
			}
		}
	}
}

// follow polls one item and hands each new revision to the watch that started it.
func (s *inventory) follow(ctx context.Context, it *stockItem, changes chan<- StockChange) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var seen uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		it.mu.Lock()
		c := StockChange{SKU: it.SKU, Qty: it.Qty, Rev: it.Rev}
		it.mu.Unlock()
		if c.Rev == seen {
			continue
		}
		seen = c.Rev
		select {
		case changes <- c:
		case <-ctx.Done():
			return
		}
	}
}

// labelCache is a bounded LRU of rendered labels.
type labelCache struct {
	mu    sync.Mutex
	max   int
	order *list.List
	byKey map[string]*list.Element
}

type labelEntry struct{ key, val string }

func newLabelCache(max int) *labelCache {
	return &labelCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *labelCache) get(k string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[k]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*labelEntry).val, true
	}
	return "", false
}

func (c *labelCache) put(k, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok {
		return
	}
	c.byKey[k] = c.order.PushFront(&labelEntry{k, v})
	for c.order.Len() > c.max {
		old := c.order.Back()
		c.order.Remove(old)
		delete(c.byKey, old.Value.(*labelEntry).key)
	}
}

func (s *inventory) pickBatch(n int) []string {
	start := int(time.Now().UnixNano()/int64(time.Millisecond)) % len(s.skus)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			out = append(out, s.skus[(start*7+i*13)%200]) // best sellers run low first
		} else {
			out = append(out, s.skus[(start+i*97)%len(s.skus)])
		}
	}
	return out
}
