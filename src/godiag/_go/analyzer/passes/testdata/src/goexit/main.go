package main

import (
	"fmt"
	"runtime"
)

func init() {
	if false {
		runtime.Goexit() // want `runtime.Goexit called in init`
	}
}

func main() {
	defer func() {
		runtime.Goexit() // want `runtime.Goexit called in a deferred function of main`
	}()
	done := make(chan bool)
	go func() {
		defer close(done)
		runtime.Goexit() // fine: ends only this worker goroutine
	}()
	<-done
	worker()
	fmt.Println("bye")
	runtime.Goexit() // want `runtime.Goexit called in main: return from main`
}

// worker is not main: Goexit here is the caller's business.
func worker() {
	if false {
		runtime.Goexit()
	}
}
