// Package expose is the only code the corpus templates share: the command-line flags
// every program takes (listen address, lifetime, intensity, load shape, exposure, variant)
// and the debug endpoints, in the exposure variants real services use. Everything a
// service does (its handlers, its load, its faults) is the template's own.
package expose

import (
	"expvar"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelruntime "go.opentelemetry.io/contrib/instrumentation/runtime"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/sdk/metric"
)

var (
	addrFlag      = flag.String("addr", "", "listen address for the debug endpoints (default: a free loopback port)")
	lifetimeFlag  = flag.Duration("lifetime", 3*time.Minute, "exit after this long")
	intensityFlag = flag.String("intensity", "medium", "load: low, medium, high or a positive multiplier")
	loadFlag      = flag.String("load", "steady", "load shape: steady, ramping or bursty")
	exposeFlag    = flag.String("expose", "pprof", "debug endpoints: pprof, expvar (pprof+expvar), prom (pprof+client_golang), otel (pprof+OpenTelemetry Prometheus exporter)")
	variantFlag   = flag.String("variant", "healthy", "which behaviour of the template to run (see corpus.json)")
)

// Env is what a template reads from the flags.
type Env struct {
	Name      string
	Variant   string
	Intensity float64
	Load      string
	Expose    string
	URL       string // the debug endpoints' base URL
	Mux       *http.ServeMux
	started   time.Time
}

func fatal(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(2)
}

func intensity(s string) float64 {
	switch s {
	case "low":
		return 0.5
	case "", "medium":
		return 1
	case "high":
		return 2
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		fatal("bad -intensity %q: want low, medium, high or a positive number", s)
	}
	return f
}

// Start parses the flags (a template declares its own flags before calling it), checks
// the variant against the ones the template knows, serves the debug endpoints on one
// listener and prints "LISTEN http://ADDR". The template registers its own handlers on
// Env.Mux (the same listener) if it serves HTTP.
func Start(name string, variants ...string) *Env {
	flag.Parse()
	e := &Env{Name: name, Variant: *variantFlag, Intensity: intensity(*intensityFlag),
		Load: *loadFlag, Expose: *exposeFlag, Mux: http.NewServeMux(), started: time.Now()}
	known := false
	for _, v := range variants {
		known = known || v == e.Variant
	}
	if !known {
		fatal("%s: unknown -variant %q (known: %s)", name, e.Variant, strings.Join(variants, ", "))
	}
	switch e.Load {
	case "steady", "ramping", "bursty":
	default:
		fatal("%s: bad -load %q: want steady, ramping or bursty", name, e.Load)
	}
	e.Mux.HandleFunc("/debug/pprof/", pprof.Index)
	e.Mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	e.Mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	e.Mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	e.Mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	switch e.Expose {
	case "pprof":
	case "expvar":
		expvar.NewString("service").Set(name)
		e.Mux.Handle("/debug/vars", expvar.Handler())
	case "prom":
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			collectors.NewBuildInfoCollector())
		e.Mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	case "otel":
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			fatal("%s: otel exporter: %v", name, err)
		}
		provider := metric.NewMeterProvider(metric.WithReader(exp))
		if err := otelruntime.Start(otelruntime.WithMeterProvider(provider)); err != nil {
			fatal("%s: otel runtime metrics: %v", name, err)
		}
		e.Mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	default:
		fatal("%s: bad -expose %q: want pprof, expvar, prom or otel", name, e.Expose)
	}
	addr := *addrFlag
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fatal("%s: listen: %v", name, err)
	}
	srv := &http.Server{Handler: e.Mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	e.URL = "http://" + ln.Addr().String()
	if *lifetimeFlag > 0 {
		time.AfterFunc(*lifetimeFlag, func() { os.Exit(0) })
	}
	fmt.Printf("LISTEN %s\n", e.URL)
	return e
}

// Factor is the load multiplier at this moment: Intensity times the shape. Ramping rises
// from a fifth to twice the base over two minutes; bursty runs at triple for two seconds
// in every ten and at a fifth between.
func (e *Env) Factor() float64 {
	t := time.Since(e.started).Seconds()
	switch e.Load {
	case "ramping":
		return e.Intensity * (0.2 + 1.8*math.Min(t/120, 1))
	case "bursty":
		if math.Mod(t, 10) < 2 {
			return e.Intensity * 3
		}
		return e.Intensity * 0.2
	}
	return e.Intensity
}

// Every calls f about `perSecond` times a second at the current Factor (at least once a
// second's worth of ticks when the factor is small), in the calling goroutine, forever.
func (e *Env) Every(perSecond float64, f func()) {
	for {
		rate := perSecond * e.Factor()
		if rate < 0.5 {
			rate = 0.5
		}
		time.Sleep(time.Duration(float64(time.Second) / rate))
		f()
	}
}

// Wait blocks forever (the lifetime timer ends the process).
func Wait() { select {} }
