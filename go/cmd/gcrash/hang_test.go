package main

import (
	"testing"
	"time"
)

// TestHang blocks until `go test -timeout` panics and dumps every goroutine.
func TestHang(t *testing.T) {
	if testing.Short() {
		t.Skip("hangs on purpose")
	}
	ch := make(chan int)
	go func() { time.Sleep(time.Hour); ch <- 1 }()
	<-ch
}
