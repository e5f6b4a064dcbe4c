package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// reading is one parsed line; enriched readings carry their site's region and owner.
type reading struct {
	ID     string
	At     int64
	Site   string
	Device string
	Kind   string
	Value  float64
	Unit   string
	Region string
	Owner  string
	Model  string
}

type pipeline struct {
	variant  string
	root     string
	dim      *dimension
	registry *registryClient
	workers  int

	arrivals chan string
	lines    chan string
	parsed   chan reading
	enriched chan reading

	agg    *aggregator
	writer *partWriter

	filesRead, linesRead, rejected atomic.Int64
}

func newPipeline(variant, root string, dim *dimension, registryURL string, workers int) (*pipeline, error) {
	if err := os.MkdirAll(filepath.Join(root, "out"), 0o755); err != nil {
		return nil, err
	}
	p := &pipeline{variant: variant, root: root, dim: dim, workers: workers,
		registry: newRegistryClient(registryURL, variant == "registry-body"),
		arrivals: make(chan string, 64),
		lines:    make(chan string, 512),
		parsed:   make(chan reading, 512),
		enriched: make(chan reading, 512),
	}
	p.writer = newPartWriter(filepath.Join(root, "out"), variant == "open-partitions")
	p.agg = newAggregator(variant, p.writer)
	return p, nil
}

func (p *pipeline) run() {
	go func() {
		for path := range p.arrivals {
			go p.readFile(path)
		}
	}()
	for i := 0; i < p.workers; i++ {
		go p.parseStage()
		go p.enrichStage()
	}
	go p.agg.consume(p.enriched)
	go p.agg.flushEvery(5 * time.Second)
}

// readFile streams one spool file into the pipeline and removes it once read.
func (p *pipeline) readFile(path string) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer func() {
		f.Close()
		os.Remove(path)
	}()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p.lines <- sc.Text() // FAULT(goroutine-leak:dropped-enricher)
		p.linesRead.Add(1)
	}
	p.filesRead.Add(1)
}

func (p *pipeline) parseStage() {
	for line := range p.lines {
		var r reading
		var err error
		if p.variant == "parse-scratch" {
			r, err = parseLineScratch(line)
		} else {
			r, err = parseLine(line)
		}
		if err != nil {
			p.rejected.Add(1)
			continue
		}
		p.parsed <- r
	}
}

var errUnit = errors.New("unit does not match kind")

func parseLine(line string) (reading, error) {
	var f [7]string
	for i := 0; i < 6; i++ {
		j := strings.IndexByte(line, '|')
		if j < 0 {
			return reading{}, fmt.Errorf("short line %q", line)
		}
		f[i], line = line[:j], line[j+1:]
	}
	f[6] = line
	at, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return reading{}, err
	}
	v, err := strconv.ParseFloat(f[5], 64)
	if err != nil {
		return reading{}, err
	}
	return reading{ID: f[0], At: at, Site: f[2], Device: f[3], Kind: f[4], Value: v, Unit: f[6]}, nil
}

// maxFieldSize is the importer's limit on one field (a setting of the CSV importer).
var maxFieldSize = 16 << 10

// parseLineScratch is the parser from the CSV importer, which unescapes every field
// through a scratch buffer and normalises keys.
func parseLineScratch(line string) (reading, error) {
	fields := strings.Split(line, "|")
	if len(fields) != 7 {
		return reading{}, fmt.Errorf("bad line %q", line)
	}
	clean := make([]string, len(fields))
	for i, fld := range fields {
		scratch := make([]byte, 0, maxFieldSize) // FAULT(gc-pressure:parse-scratch)
		for k := 0; k < len(fld); k++ {
			if fld[k] != '\\' {
				scratch = append(scratch, fld[k])
			}
		}
		clean[i] = fmt.Sprintf("%s", strings.TrimSpace(string(scratch)))
	}
	at, err := strconv.ParseInt(clean[1], 10, 64)
	if err != nil {
		return reading{}, err
	}
	v, err := strconv.ParseFloat(clean[5], 64)
	if err != nil {
		return reading{}, err
	}
	return reading{ID: clean[0], At: at, Site: clean[2], Device: clean[3], Kind: clean[4], Value: v, Unit: clean[6]}, nil
}

func (p *pipeline) enrichStage() {
	for r := range p.parsed {
		if units[r.Kind] != r.Unit {
			p.rejected.Add(1)
			if p.variant == "dropped-enricher" {
				return
			}
			continue
		}
		site, ok := p.dim.lookup(r.Site)
		if !ok {
			p.rejected.Add(1)
			continue
		}
		r.Region, r.Owner = site.region, site.owner
		r.Model = p.registry.model(r.Device)
		p.enriched <- r
	}
}

func (p *pipeline) handleStats(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]int64{
		"files": p.filesRead.Load(), "lines": p.linesRead.Load(), "rejected": p.rejected.Load(),
		"windows": p.writer.written.Load(),
	})
}

// registryClient asks the device registry for a device's model, caching answers.
type registryClient struct {
	url      string
	http     *http.Client
	leaky    bool
	mu       sync.Mutex
	models   map[string]cachedModel
	inflight map[string]bool
}

// cachedModel is a registry answer; devices get re-flashed, so answers expire.
type cachedModel struct {
	model string
	at    time.Time
}

const modelTTL = 60 * time.Second

func newRegistryClient(url string, leaky bool) *registryClient {
	// the registry answers from memory; only a stalled header is worth giving up on
	transport := &http.Transport{ResponseHeaderTimeout: 2 * time.Second, MaxIdleConnsPerHost: 16}
	return &registryClient{url: url, leaky: leaky, http: &http.Client{Transport: transport},
		models: make(map[string]cachedModel), inflight: make(map[string]bool)}
}

// model returns the cached model, or "" while a lookup is pending; a miss starts one.
func (c *registryClient) model(device string) string {
	c.mu.Lock()
	m, ok := c.models[device]
	if (ok && time.Since(m.at) < modelTTL) || c.inflight[device] {
		c.mu.Unlock()
		return m.model
	}
	c.inflight[device] = true
	c.mu.Unlock()
	go c.fetch(device)
	return ""
}

func (c *registryClient) fetch(device string) {
	model := "unknown"
	defer func() {
		c.mu.Lock()
		c.models[device] = cachedModel{model: model, at: time.Now()}
		delete(c.inflight, device)
		c.mu.Unlock()
	}()
	resp, err := c.http.Get(c.url + "?id=" + device) // FAULT(connection-leak:registry-body)
	if err != nil {
		return
	}
	if resp.StatusCode == http.StatusNotFound {
		if !c.leaky {
			resp.Body.Close()
		}
		return
	}
	defer resp.Body.Close()
	var out struct {
		Model string `json:"model"`
	}
	if json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&out) == nil {
		model = out.Model
	}
}

// registryHandler is the device registry (in-process here). Devices decommissioned
// upstream are unknown to it.
func registryHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		n, _ := strconv.Atoi(strings.TrimPrefix(id, "dev-"))
		if n%5 == 0 {
			http.Error(w, "no such device", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":%q,"model":"SX-%d"}`, id, n%40)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
