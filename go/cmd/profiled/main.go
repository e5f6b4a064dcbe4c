// profiled is a service with known hot spots for profile tests: a CPU-hungry
// function, a heap that grows without bound, channel blocking and mutex contention
// (block and mutex profiling switched on by flags), and parked goroutines.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
)

var (
	sink    [32]byte
	leaked  [][]byte
	leakMu  sync.Mutex
	shared  sync.Mutex
	counter int
)

// godiagHotLoop burns CPU: it should top a CPU profile.
func godiagHotLoop() {
	buf := make([]byte, 4096)
	for {
		for i := 0; i < 200; i++ {
			sink = sha256.Sum256(buf)
			buf[i%len(buf)] = sink[0]
		}
		runtime.Gosched()
	}
}

// retainLeakyBuffers keeps every buffer it allocates: the heap leak.
func retainLeakyBuffers(every time.Duration) {
	for {
		b := make([]byte, 256<<10)
		for i := range b {
			b[i] = byte(i)
		}
		leakMu.Lock()
		leaked = append(leaked, b)
		leakMu.Unlock()
		time.Sleep(every)
	}
}

// blockOnChannel spends its time blocked receiving: shows in the block profile.
func blockOnChannel(ch chan int) {
	for v := range ch {
		counter += v
	}
}

func feedSlowly(ch chan int) {
	for {
		time.Sleep(2 * time.Millisecond)
		ch <- 1
	}
}

// holdSharedLock holds a mutex others wait for: shows in the mutex profile.
func holdSharedLock() {
	for {
		shared.Lock()
		time.Sleep(time.Millisecond)
		shared.Unlock()
	}
}

// sendForever sends on a channel nobody will ever receive from.
func sendForever(ch chan int) { ch <- 1 }

// abandonSender leaks a goroutine: the only receiver is gone when it returns, so the
// channel is unreachable (what the goroutineleak profile detects).
func abandonSender() {
	ch := make(chan int)
	go sendForever(ch)
}

// parkForever blocks for ever: shows in the goroutine profile.
func parkForever(ch chan struct{}) { <-ch }

func main() {
	blockRate := flag.Int("blockrate", 0, "runtime.SetBlockProfileRate")
	mutexFrac := flag.Int("mutexfrac", 0, "runtime.SetMutexProfileFraction")
	writeTimeout := flag.Duration("writetimeout", 0, "http.Server WriteTimeout")
	handlerTimeout := flag.Duration("handlertimeout", 0, "wrap the mux in http.TimeoutHandler")
	noPprof := flag.Bool("nopprof", false, "do not register /debug/pprof")
	token := flag.String("token", "", "require this bearer token")
	leakEvery := flag.Duration("leakevery", 20*time.Millisecond, "leak one buffer this often")
	parked := flag.Int("parked", 50, "goroutines parked for ever")
	lockers := flag.Int("lockers", 4, "goroutines contending for one mutex (0: no contention)")
	_ = flag.String("password", "", "a secret, as real services take them (cmdline redaction)")
	flag.Parse()

	runtime.SetBlockProfileRate(*blockRate)
	runtime.SetMutexProfileFraction(*mutexFrac)

	mux := http.NewServeMux()
	if !*noPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# HELP go_info Information about the Go environment.\n# TYPE go_info gauge\n")
		fmt.Fprintf(w, "go_info{version=%q} 1\n", runtime.Version())
		fmt.Fprintf(w, "# TYPE go_goroutines gauge\ngo_goroutines %d\n", runtime.NumGoroutine())
	})
	var handler http.Handler = mux
	if *token != "" {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+*token {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			mux.ServeHTTP(w, r)
		})
	}

	if *handlerTimeout > 0 {
		handler = http.TimeoutHandler(handler, *handlerTimeout, "handler timeout")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: handler, WriteTimeout: *writeTimeout}
	go func() { _ = srv.Serve(ln) }()
	for i := 0; i < 3; i++ {
		abandonSender()
	}
	time.Sleep(20 * time.Millisecond) // the senders are parked before anyone looks
	fmt.Printf("LISTEN http://%s\n", ln.Addr().String())
	fmt.Println("ARGS", strings.Join(os.Args[1:], " "))

	go godiagHotLoop()
	go retainLeakyBuffers(*leakEvery)
	ch := make(chan int)
	go blockOnChannel(ch)
	go feedSlowly(ch)
	for i := 0; i < *lockers; i++ {
		go holdSharedLock()
	}
	park := make(chan struct{})
	for i := 0; i < *parked; i++ {
		go parkForever(park)
	}
	select {}
}
