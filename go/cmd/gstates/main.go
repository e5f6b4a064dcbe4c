// gstates parks goroutines in every state a goroutine dump can show, each in its own
// named function so that the analysis can be checked per category and user frame.
// GET /dump?debug=N writes the goroutine profile from a handler of this package, which
// makes the dumping goroutine a "running" one with user code on its stack.
package main

import (
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	"godiag.test/internal/serve"
)

var (
	mu      sync.Mutex
	rw      sync.RWMutex
	wg      sync.WaitGroup
	condMu  sync.Mutex
	cond    = sync.NewCond(&condMu)
	started sync.WaitGroup

	accepted []net.Conn
)

func chanSend(ch chan int) { started.Done(); ch <- 1 }

func chanReceive(ch chan int) { started.Done(); <-ch }

func selectWait(a, b chan int) {
	started.Done()
	select {
	case <-a:
	case <-b:
	}
}

func nilChan() {
	var ch chan int
	started.Done()
	<-ch
}

func mutexWait() { started.Done(); mu.Lock() }

func rwmutexWait() { started.Done(); rw.RLock() }

func waitgroupWait() { started.Done(); wg.Wait() }

func condWait() {
	condMu.Lock()
	started.Done()
	cond.Wait()
}

func sleeper() { started.Done(); time.Sleep(time.Hour) }

func ioWait(c net.Conn) {
	started.Done()
	buf := make([]byte, 1)
	_, _ = c.Read(buf)
}

func syscallWait(fd int) {
	started.Done()
	buf := make([]byte, 1)
	_, _ = syscall.Read(fd, buf) // a blocking pipe: the goroutine stays in the syscall
}

func lockedThread(ch chan int) {
	runtime.LockOSThread()
	started.Done()
	<-ch
}

func dumpHandler(w http.ResponseWriter, r *http.Request) {
	debug, _ := strconv.Atoi(r.URL.Query().Get("debug"))
	_ = pprof.Lookup("goroutine").WriteTo(w, debug)
}

func main() {
	mu.Lock()
	rw.Lock()
	wg.Add(1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted = append(accepted, c) // referenced, so never closed by a finalizer
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			panic(err)
		}
		return c
	}
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		panic(err)
	}
	starts := []func(){
		func() { go chanSend(make(chan int)) },
		func() { go chanReceive(make(chan int)) },
		func() { go selectWait(make(chan int), make(chan int)) },
		func() { go nilChan() },
		func() { go mutexWait() },
		func() { go rwmutexWait() },
		func() { go waitgroupWait() },
		func() { go condWait() },
		func() { go sleeper() },
		func() { go ioWait(dial()) }, // one connection each: readers of one conn queue on a lock
		func() { go syscallWait(fds[0]) },
		func() { go lockedThread(make(chan int)) },
	}
	// three of each, so every state forms a group of 3
	for i := 0; i < 3; i++ {
		for _, start := range starts {
			started.Add(1)
			start()
		}
	}
	started.Wait()
	time.Sleep(200 * time.Millisecond) // let the last ones park
	http.HandleFunc("/dump", dumpHandler)
	serve.Start()
	select {}
}
