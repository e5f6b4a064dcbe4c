// Package main: workers started while the program starts up live as long as it.
package main

import (
	"net"
	"net/http"
)

type api struct {
	audits  chan string
	results chan int
}

func newAPI() *api {
	a := &api{audits: make(chan string, 64), results: make(chan int)}
	go a.auditWorker() // started once, from main through newAPI: fine
	return a
}

func (a *api) auditWorker() {
	for q := range a.audits {
		_ = q
	}
}

func (a *api) sum() {
	for v := range a.results { // want `for range over channel results`
		_ = v
	}
}

// handle is a handler: it runs once per request, and so does each goroutine it starts.
func (a *api) handle(w http.ResponseWriter, r *http.Request) {
	go a.sum()
	a.audits <- r.URL.RawQuery
	a.results <- 1
}

func (a *api) serveConn(c net.Conn) {
	lines := make(chan string)
	go func() {
		for l := range lines { // want `for range over channel lines`
			_ = l
		}
	}()
	lines <- c.RemoteAddr().String()
}

func main() {
	a := newAPI()
	pool := make(chan int)
	for i := 0; i < 4; i++ {
		go func() {
			for v := range pool { // a fixed pool started at start-up: fine
				_ = v
			}
		}()
	}
	pool <- 1
	http.HandleFunc("/", a.handle)
	ln, _ := net.Listen("tcp", ":0")
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go a.serveConn(c)
	}
}
