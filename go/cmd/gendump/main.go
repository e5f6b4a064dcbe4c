// gendump starts N goroutines in the shapes a leaking server shows (abandoned senders,
// workers in select, lock and WaitGroup waiters, sleepers, idle connections), then
// writes the goroutine profile (debug=2 by default) to stdout and exits.
//
//	gendump -n 100000 -debug 2 > dump.txt
package main

import (
	"flag"
	"os"
	"runtime/pprof"
	"sync"
	"time"
)

var (
	mu sync.Mutex
	wg sync.WaitGroup
)

type request struct{ id int }

func fetchQuote(id int) chan string {
	ch := make(chan string)
	go func() {
		ch <- "quote" // nobody receives: leaks
	}()
	return ch
}

func fetchPrice(r *request) {
	ch := make(chan int)
	go func() { ch <- r.id }()
}

func worker(id int, jobs <-chan int, quit <-chan struct{}) {
	for {
		select {
		case <-jobs:
		case <-quit:
			return
		}
	}
}

func lockedUpdate(id int) {
	mu.Lock()
	defer mu.Unlock()
}

func waitAll(id int) { wg.Wait() }

func poll(interval time.Duration) {
	for {
		time.Sleep(interval)
	}
}

func main() {
	n := flag.Int("n", 10000, "goroutines to start")
	debug := flag.Int("debug", 2, "goroutine profile debug level")
	flag.Parse()
	mu.Lock()
	wg.Add(1)
	jobs := make(chan int)
	quit := make(chan struct{})
	var started sync.WaitGroup
	for i := 0; i < *n; i++ {
		started.Add(1)
		i := i
		go func() {
			defer started.Done()
			switch i % 10 {
			case 0, 1, 2, 3:
				fetchQuote(i)
			case 4, 5:
				fetchPrice(&request{id: i})
			case 6, 7:
				go worker(i, jobs, quit)
			case 8:
				go lockedUpdate(i)
			case 9:
				if i%20 == 9 {
					go waitAll(i)
				} else {
					go poll(time.Hour + time.Duration(i%7)*time.Minute)
				}
			}
		}()
	}
	started.Wait()
	time.Sleep(300 * time.Millisecond) // let every goroutine park
	_ = pprof.Lookup("goroutine").WriteTo(os.Stdout, *debug)
}
