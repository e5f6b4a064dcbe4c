// gcrash ends in the ways that print goroutine dumps, so the parser is tested on the
// runtime's real output: gcrash panic|deadlock|sigquit|race|deep.
//
// Each mode first parks a few goroutines (one with pprof labels, one 150 frames deep)
// so the dump has more than the crashing goroutine.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"
)

func parkedSleeper() { time.Sleep(time.Hour) }

func labelled() {
	pprof.Do(context.Background(), pprof.Labels("handler", "checkout"), func(context.Context) {
		time.Sleep(time.Hour)
	})
}

func deep(n int, ch chan int) int {
	if n == 0 {
		return <-ch
	}
	return deep(n-1, ch) + 1
}

func racer(counter *int, wg *sync.WaitGroup) {
	defer wg.Done()
	*counter++ // unsynchronised on purpose
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gcrash panic|deadlock|sigquit|race")
		os.Exit(2)
	}
	mode := os.Args[1]
	if mode != "deadlock" {
		go parkedSleeper()
		go labelled()
		go deep(150, make(chan int))
		time.Sleep(100 * time.Millisecond)
	}
	switch mode {
	case "panic":
		done := make(chan bool)
		go func() {
			var m map[string]int
			m["boom"]++ // assignment to entry in nil map
			done <- true
		}()
		<-done
	case "deadlock":
		ch := make(chan int)
		<-ch
	case "sigquit":
		_ = syscall.Kill(os.Getpid(), syscall.SIGQUIT)
		time.Sleep(10 * time.Second)
	case "race":
		var counter int
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			wg.Add(1)
			go racer(&counter, &wg)
		}
		wg.Wait()
		fmt.Println(counter)
	}
}
