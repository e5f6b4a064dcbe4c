package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// behaviour is the deployment's configuration: what differs between installations.
type behaviour struct {
	pageCache   bool // cache rendered list pages (bounded)
	hookBuffer  int  // capacity of the webhook result channel
	syncReplica bool // replicate writes before answering
	orderLocks  bool // take two accounts' locks in name order
	compileEach bool // search compiles the query for every note
	concatJSON  bool // hand-rolled JSON for list pages
	forgetAudit bool // the audit index is not pruned with its ring
}

func configFor(variant string) behaviour {
	b := behaviour{hookBuffer: 1, orderLocks: true}
	switch variant {
	case "page-cache":
		b.pageCache = true
	case "webhook-timeout":
		b.hookBuffer = 0
	case "replicate-under-lock":
		b.syncReplica = true
	case "share-lock-order":
		b.orderLocks = false
	case "search-compile":
		b.compileEach = true
	case "render-concat":
		b.concatJSON = true
	case "request-audit":
		b.forgetAudit = true
	}
	return b
}

type api struct {
	st      *store
	cfg     behaviour
	self    string // our own base URL, for the webhook sink and the replica
	client  *http.Client
	replq   chan replOp
	audit   *auditTrail
	cache   *pageCache
	reqSeq  atomic.Int64
	hookMis atomic.Int64
}

type replOp struct {
	Op   string `json:"op"`
	ID   int64  `json:"id"`
	Body []byte `json:"body,omitempty"`
}

func newAPI(st *store, variant string) *api {
	return &api{st: st, cfg: configFor(variant), replq: make(chan replOp, 4096),
		client: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 32, IdleConnTimeout: 30 * time.Second}},
		audit: newAuditTrail(512), cache: newPageCache(600)}
}

func (a *api) routes(mux *http.ServeMux) {
	mux.Handle("POST /v1/users/{user}/notes", a.wrap(a.createNote))
	mux.Handle("GET /v1/users/{user}/notes", a.wrap(a.listNotes))
	mux.Handle("GET /v1/notes/{id}", a.wrap(a.getNote))
	mux.Handle("PUT /v1/notes/{id}", a.wrap(a.updateNote))
	mux.Handle("DELETE /v1/notes/{id}", a.wrap(a.deleteNote))
	mux.Handle("POST /v1/notes/{id}/share", a.wrap(a.shareNote))
	mux.Handle("GET /v1/search", a.wrap(a.search))
	mux.Handle("POST /v1/import", a.wrap(a.importNotes))
	mux.Handle("GET /v1/audit/{rid}", a.wrap(a.auditLookup))
	mux.HandleFunc("POST /internal/hooks", a.hookSink)
	mux.HandleFunc("GET /internal/directory/{user}", a.directorySink)
	mux.HandleFunc("POST /internal/replica", a.replicaSink)
}

type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func fail(code int, format string, a ...any) error {
	return &apiError{code, fmt.Sprintf(format, a...)}
}

// recorder keeps the status and a copy of what was written, for the audit trail.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(c int) { r.status = c; r.ResponseWriter.WriteHeader(c) }
func (r *recorder) Write(p []byte) (int, error) {
	r.body.Write(p)
	return r.ResponseWriter.Write(p)
}

// wrap turns a handler returning an error into an http.Handler with request ids and
// an audit record.
func (a *api) wrap(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rid := r.Header.Get("X-Request-Id")
		if rid == "" {
			rid = "n" + strconv.FormatInt(a.reqSeq.Add(1), 36) + strconv.FormatInt(time.Now().UnixNano()&0xffff, 36)
		}
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		w.Header().Set("X-Request-Id", rid)
		rec := &recorder{ResponseWriter: w, status: 200}
		start := time.Now()
		if err := h(rec, r); err != nil {
			var ae *apiError
			code := 500
			if errors.As(err, &ae) {
				code = ae.code
			}
			writeJSON(rec, code, map[string]string{"error": err.Error()})
		}
		a.audit.record(&auditEntry{id: rid, method: r.Method, path: r.URL.RequestURI(),
			at: start, took: time.Since(start), status: rec.status,
			request: reqBody, response: rec.body.Bytes()}, a.cfg.forgetAudit)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type noteInput struct {
	Title string   `json:"title"`
	Body  string   `json:"body"`
	Tags  []string `json:"tags"`
}

func (a *api) createNote(w http.ResponseWriter, r *http.Request) error {
	var in noteInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return fail(400, "bad note: %v", err)
	}
	if strings.TrimSpace(in.Title) == "" {
		return fail(422, "a note needs a title")
	}
	acct := a.st.account(r.PathValue("user"))
	acct.mu.Lock()
	if acct.quota <= 0 {
		acct.mu.Unlock()
		return fail(429, "quota exhausted")
	}
	acct.quota--
	acct.mu.Unlock()

	now := time.Now()
	n := &Note{Owner: acct.name, Title: in.Title, Body: in.Body, Tags: in.Tags, Created: now, Updated: now}
	a.insert(n)

	// Tell the subscriber's webhook, but never make the user wait long for it.
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	done := make(chan error, a.cfg.hookBuffer)
	go func() {
		defer cancel()
		done <- a.deliverHook(ctx, "note.created", n) // FAULT(goroutine-leak:webhook-timeout)
	}()
	select {
	case err := <-done:
		if err != nil {
			a.hookMis.Add(1)
		}
	case <-time.After(60 * time.Millisecond):
		a.hookMis.Add(1)
	}
	writeJSON(w, 201, n)
	return nil
}

// insert stores a new note and replicates it to the follower.
func (a *api) insert(n *Note) {
	a.st.mu.Lock()
	defer a.st.mu.Unlock()
	a.st.insertLocked(n)
	body, _ := json.Marshal(n)
	a.ship(replOp{Op: "put", ID: n.ID, Body: body})
}

// mutate applies an edit to a note and replicates the new version.
func (a *api) mutate(id int64, edit func(*Note)) (*Note, bool) {
	a.st.mu.Lock()
	defer a.st.mu.Unlock()
	n, ok := a.st.updateLocked(id, edit)
	if !ok {
		return nil, false
	}
	body, _ := json.Marshal(n)
	a.ship(replOp{Op: "put", ID: id, Body: body})
	return n, true
}

func (a *api) remove(id int64) bool {
	a.st.mu.Lock()
	defer a.st.mu.Unlock()
	if !a.st.removeLocked(id) {
		return false
	}
	a.ship(replOp{Op: "delete", ID: id})
	return true
}

// ship hands a change to the follower; the caller holds the store lock, which keeps
// the follower's order the same as ours.
func (a *api) ship(op replOp) {
	if a.cfg.syncReplica {
		a.replicate(op) // FAULT(lock-contention:replicate-under-lock)
		return
	}
	select {
	case a.replq <- op:
	default: // the follower catches up from a snapshot
	}
}

func (a *api) replicator() {
	for op := range a.replq {
		a.replicate(op)
	}
}

func (a *api) replicate(op replOp) {
	body, _ := json.Marshal(op)
	resp, err := a.client.Post(a.self+"/internal/replica", "application/json", bytes.NewReader(body))
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// replicaSink plays the follower: it acknowledges after its own write.
func (a *api) replicaSink(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	time.Sleep(time.Duration(5000+rand.IntN(15000)) * time.Microsecond)
	w.WriteHeader(204)
}

func (a *api) deliverHook(ctx context.Context, event string, n *Note) error {
	body, _ := json.Marshal(map[string]any{"event": event, "id": n.ID, "owner": n.Owner})
	req, _ := http.NewRequestWithContext(ctx, "POST", a.self+"/internal/hooks", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("hook: %s", resp.Status)
	}
	return nil
}

func (a *api) checkDirectory(ctx context.Context, from, to string) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", a.self+"/internal/directory/"+to+"?from="+from, nil)
	resp, err := a.client.Do(req)
	if err != nil {
		return fail(503, "directory: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fail(403, "%s does not take shares from %s", to, from)
	}
	return nil
}

// directorySink plays the company directory.
func (a *api) directorySink(w http.ResponseWriter, r *http.Request) {
	time.Sleep(time.Duration(5+rand.IntN(35)) * time.Millisecond)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"accepts":"team"}`)
}

// hookSink plays a subscriber's webhook receiver: usually quick, sometimes slow.
func (a *api) hookSink(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	d := time.Duration(2+rand.IntN(20)) * time.Millisecond
	if rand.IntN(100) < 12 {
		d = time.Duration(90+rand.IntN(300)) * time.Millisecond
	}
	time.Sleep(d)
	w.WriteHeader(202)
}

func intParam(r *http.Request, name string, def, lo, hi int) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil {
		return def
	}
	return min(max(v, lo), hi)
}

type listPage struct {
	Owner string  `json:"owner"`
	Page  int     `json:"page"`
	Size  int     `json:"size"`
	Total int     `json:"total"`
	Notes []*Note `json:"notes"`
}

func (a *api) listNotes(w http.ResponseWriter, r *http.Request) error {
	owner := r.PathValue("user")
	page, size := intParam(r, "page", 0, 0, 1000), intParam(r, "size", 20, 1, 100)
	notes, total := a.st.page(owner, page, size)
	if a.cfg.pageCache {
		key := fmt.Sprintf("%s|%d|%d|%d", owner, page, size, total)
		if b, ok := a.cache.get(key); ok {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
			return nil
		}
		var buf bytes.Buffer
		_ = json.NewEncoder(&buf).Encode(listPage{owner, page, size, total, notes})
		a.cache.put(key, buf.Bytes())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(buf.Bytes())
		return nil
	}
	if a.cfg.concatJSON {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, renderPage(owner, page, size, total, notes))
		return nil
	}
	writeJSON(w, 200, listPage{owner, page, size, total, notes})
	return nil
}

// renderPage writes the list JSON by hand (older clients depend on its field order).
func renderPage(owner string, page, size, total int, notes []*Note) string {
	out := fmt.Sprintf(`{"owner":%q,"page":%d,"size":%d,"total":%d,"notes":[`, owner, page, size, total)
	for i, n := range notes {
		if i > 0 {
			out += ","
		}
		tags := ""
		for j, t := range n.Tags {
			if j > 0 {
				tags += ","
			}
			tags += strconv.Quote(t)
		}
		out += fmt.Sprintf(`{"id":%d,"owner":%q,"title":%q,"body":%q,"tags":[%s],"created":%q,"updated":%q}`, // FAULT(gc-pressure:render-concat)
			n.ID, n.Owner, n.Title, n.Body, tags, n.Created.Format(time.RFC3339Nano), n.Updated.Format(time.RFC3339Nano))
	}
	return out + "]}\n"
}

func (a *api) noteID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, fail(400, "bad id %q", r.PathValue("id"))
	}
	return id, nil
}

func (a *api) getNote(w http.ResponseWriter, r *http.Request) error {
	id, err := a.noteID(r)
	if err != nil {
		return err
	}
	n, ok := a.st.get(id)
	if !ok {
		return fail(404, "no note %d", id)
	}
	writeJSON(w, 200, n)
	return nil
}

func (a *api) updateNote(w http.ResponseWriter, r *http.Request) error {
	id, err := a.noteID(r)
	if err != nil {
		return err
	}
	var in noteInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return fail(400, "bad note: %v", err)
	}
	n, ok := a.mutate(id, func(n *Note) { n.Title, n.Body, n.Tags = in.Title, in.Body, in.Tags })
	if !ok {
		return fail(404, "no note %d", id)
	}
	writeJSON(w, 200, n)
	return nil
}

func (a *api) deleteNote(w http.ResponseWriter, r *http.Request) error {
	id, err := a.noteID(r)
	if err != nil {
		return err
	}
	n, ok := a.st.get(id)
	if !ok || !a.remove(id) {
		return fail(404, "no note %d", id)
	}
	if acct := a.st.lookupAccount(n.Owner); acct != nil {
		acct.mu.Lock()
		acct.quota++
		acct.mu.Unlock()
	}
	w.WriteHeader(204)
	return nil
}

// shareNote puts a note in another user's inbox; it moves one unit of quota from the
// owner to the recipient, so both accounts are locked together.
func (a *api) shareNote(w http.ResponseWriter, r *http.Request) error {
	id, err := a.noteID(r)
	if err != nil {
		return err
	}
	var in struct {
		To string `json:"to"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.To == "" {
		return fail(400, "share needs a recipient")
	}
	n, ok := a.st.get(id)
	if !ok {
		return fail(404, "no note %d", id)
	}
	from, to := a.st.account(n.Owner), a.st.account(in.To)
	if from == to {
		return fail(422, "cannot share with yourself")
	}
	first, second := from, to
	if a.cfg.orderLocks && second.name < first.name {
		first, second = second, first
	}
	first.mu.Lock()
	defer first.mu.Unlock()
	// the directory says whether the recipient takes shares from this sender
	if err := a.checkDirectory(r.Context(), n.Owner, in.To); err != nil {
		return err
	}
	second.mu.Lock() // FAULT(deadlock:share-lock-order)
	defer second.mu.Unlock()
	for _, have := range to.inbox {
		if have == id {
			writeJSON(w, 200, map[string]any{"id": id, "to": in.To, "already": true})
			return nil
		}
	}
	if from.quota <= 0 {
		return fail(429, "quota exhausted")
	}
	from.quota--
	to.quota++
	to.inbox = append(to.inbox, id)
	if len(to.inbox) > 200 {
		to.inbox = append(to.inbox[:0:0], to.inbox[100:]...)
	}
	// the recipient's devices learn of it through their webhook; if it fails, the
	// share is still made and the inbox shows it on the next sync
	_ = a.deliverHook(r.Context(), "note.shared", n)
	writeJSON(w, 200, map[string]any{"id": id, "to": in.To})
	return nil
}

type hit struct {
	ID    int64  `json:"id"`
	Owner string `json:"owner"`
	Title string `json:"title"`
}

func (a *api) search(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if q == "" {
		return fail(400, "empty query")
	}
	page, size := intParam(r, "page", 0, 0, 100), intParam(r, "size", 20, 1, 100)
	notes := a.st.snapshot(r.URL.Query().Get("owner"))
	var hits []hit
	lq := strings.ToLower(q)
	for _, n := range notes {
		var match bool
		if a.cfg.compileEach {
			re := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(q) + `\b`) // FAULT(cpu-saturation:search-compile)
			match = re.MatchString(n.Title) || re.MatchString(n.Body)
		} else {
			match = strings.Contains(n.lower, lq)
		}
		if match {
			hits = append(hits, hit{n.ID, n.Owner, n.Title})
		}
	}
	total := len(hits)
	lo := min(page*size, total)
	hi := min(lo+size, total)
	writeJSON(w, 200, map[string]any{"q": q, "total": total, "hits": hits[lo:hi]})
	return nil
}

// importNotes takes a batch and enriches the notes in parallel (tags from the text)
// before storing them.
func (a *api) importNotes(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Owner string      `json:"owner"`
		Notes []noteInput `json:"notes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		return fail(400, "bad import: %v", err)
	}
	a.st.account(in.Owner)
	out := make([]*Note, len(in.Notes))
	var wg sync.WaitGroup
	for i := range in.Notes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = enrich(in.Owner, in.Notes[i])
		}()
	}
	wg.Wait()
	for _, n := range out {
		a.insert(n)
	}
	writeJSON(w, 201, map[string]int{"imported": len(out)})
	return nil
}

// enrich derives tags from the most frequent words; it waits on the language service.
func enrich(owner string, in noteInput) *Note {
	counts := map[string]int{}
	for _, f := range strings.Fields(strings.ToLower(in.Body)) {
		counts[f]++
	}
	tags := in.Tags
	for w, c := range counts {
		if c > 2 && len(tags) < 5 {
			tags = append(tags, w)
		}
	}
	time.Sleep(time.Duration(20+rand.IntN(200)) * time.Millisecond)
	now := time.Now()
	return &Note{Owner: owner, Title: in.Title, Body: in.Body, Tags: tags, Created: now, Updated: now}
}

func (a *api) auditLookup(w http.ResponseWriter, r *http.Request) error {
	e := a.audit.lookup(r.PathValue("rid"))
	if e == nil {
		return fail(404, "no request %q in the trail", r.PathValue("rid"))
	}
	writeJSON(w, 200, map[string]any{"id": e.id, "method": e.method, "path": e.path,
		"status": e.status, "took_ms": e.took.Milliseconds(), "at": e.at})
	return nil
}
