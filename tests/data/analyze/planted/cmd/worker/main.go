// Command worker starts background work and "waits" for it by ending main's goroutine.
package main

import (
	"log"
	"runtime"
	"time"
)

func main() {
	go func() {
		time.Sleep(10 * time.Millisecond)
		log.Print("work done")
	}()
	runtime.Goexit() // PLANTED: goexit-misuse
}
