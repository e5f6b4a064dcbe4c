// Command worker starts background work and waits for it properly.
package main

import (
	"log"
	"sync"
	"time"
)

func main() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(10 * time.Millisecond)
		log.Print("work done")
	}()
	wg.Wait()
}
