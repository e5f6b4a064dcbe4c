// Package svc is the plumbing every scenario service shares: flags, a loopback
// listener announced on stdout, the debug endpoints a production Go service
// usually exposes (net/http/pprof, expvar, Prometheus), and an in-process load
// generator whose strength is set by -intensity.
package svc

import (
	"bytes"
	"expvar" // registers /debug/vars on the default mux
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var (
	addrFlag      = flag.String("addr", "", "listen address (default: $ADDR or a free loopback port)")
	intensityFlag = flag.String("intensity", "", "load: low, medium, high or a multiplier (default: $INTENSITY or medium)")
	lifetimeFlag  = flag.Duration("lifetime", 3*time.Minute, "exit after this long (faulty programs must not outlive a forgotten run)")

	requests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "HTTP requests served, by status code.",
	}, []string{"code"})
)

func init() {
	// The default registry already carries the Go and process collectors; a
	// real service usually adds build info so dashboards can show versions.
	prometheus.MustRegister(collectors.NewBuildInfoCollector())
}

// Service is a running scenario program.
type Service struct {
	Name      string
	URL       string
	Intensity float64
	client    *http.Client
}

// ParseIntensity maps low/medium/high or a number to a load multiplier.
func ParseIntensity(s string) (float64, error) {
	switch s {
	case "", "medium":
		return 1, nil
	case "low":
		return 0.5, nil
	case "high":
		return 2, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad intensity %q: want low, medium, high or a positive number", s)
	}
	return f, nil
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(2)
}

// Start parses the flags (declare program flags before calling it), serves the
// default mux on loopback and prints "LISTEN http://ADDR".
func Start(name string) *Service {
	flag.Parse()
	lvl := *intensityFlag
	if lvl == "" {
		lvl = os.Getenv("INTENSITY")
	}
	intensity, err := ParseIntensity(lvl)
	if err != nil {
		fatal("%s: %v", name, err)
	}
	addr := *addrFlag
	if addr == "" {
		addr = os.Getenv("ADDR")
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fatal("%s: listen: %v", name, err)
	}
	expvar.NewString("service").Set(name)
	expvar.NewFloat("intensity").Set(intensity)
	http.Handle("/metrics", promhttp.Handler())
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s := &Service{
		Name:      name,
		URL:       "http://" + ln.Addr().String(),
		Intensity: intensity,
		client: &http.Client{
			Timeout:   3 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second},
		},
	}
	if *lifetimeFlag > 0 {
		time.AfterFunc(*lifetimeFlag, func() { os.Exit(0) })
	}
	fmt.Printf("LISTEN %s\n", s.URL)
	return s
}

// maxInFlight sheds load the way production front ends do, which also bounds
// the memory a service with stuck handlers can pile up.
const maxInFlight = 2000

var inFlight = make(chan struct{}, maxInFlight)

// Handle registers an application handler counted in http_requests_total.
func (s *Service) Handle(pattern string, h http.HandlerFunc) {
	limited := func(w http.ResponseWriter, r *http.Request) {
		select {
		case inFlight <- struct{}{}:
			defer func() { <-inFlight }()
			h(w, r)
		default:
			http.Error(w, "too many requests in flight", http.StatusServiceUnavailable)
		}
	}
	http.Handle(pattern, promhttp.InstrumentHandlerCounter(requests, http.HandlerFunc(limited)))
}

// Scale multiplies a base amount by the intensity (at least 1).
func (s *Service) Scale(n int) int {
	v := int(float64(n)*s.Intensity + 0.5)
	if v < 1 {
		v = 1
	}
	return v
}

// Workers starts Scale(n) closed-loop clients: each calls fn, then pauses.
func (s *Service) Workers(n int, pause time.Duration, fn func(worker int)) {
	for w := 0; w < s.Scale(n); w++ {
		go func() {
			for {
				fn(w)
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		}()
	}
}

// Rate is an open-loop client: fn runs in its own goroutine perSec*intensity
// times a second, whether or not earlier calls have finished (like real traffic).
func (s *Service) Rate(perSec float64, fn func(i int)) {
	every := time.Duration(float64(time.Second) / (perSec * s.Intensity))
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			<-t.C
			go fn(i)
		}
	}()
}

// Get calls one of the service's own endpoints the way a well-behaved client
// does (body drained and closed) and returns the status code (0 on error).
func (s *Service) Get(path string) int {
	resp, err := s.client.Get(s.URL + path)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// Post sends a body to one of the service's endpoints; same contract as Get.
func (s *Service) Post(path, contentType string, body []byte) int {
	resp, err := s.client.Post(s.URL+path, contentType, bytes.NewReader(body))
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// Serve blocks until SIGINT or SIGTERM, then exits.
func (s *Service) Serve() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	os.Exit(0)
}

// Upstream starts a second loopback HTTP server (a dependency of the service,
// e.g. a pricing backend) and returns its base URL.
func Upstream(h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("upstream: listen: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String()
}

// TCPUpstream starts a raw loopback TCP server (a cache or database stand-in)
// serving each connection with handle, and returns its address.
func TCPUpstream(handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal("tcp upstream: listen: %v", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			go handle(c)
		}
	}()
	return ln.Addr().String()
}
