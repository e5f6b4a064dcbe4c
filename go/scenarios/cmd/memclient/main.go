// memclient is a profile service that reads user profiles through a
// memcached-style text-protocol cache.
package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

// cacheServer speaks a tiny subset of the memcached text protocol.
func cacheServer(store *sync.Map) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		rd := bufio.NewReader(c)
		for {
			line, err := rd.ReadString('\n')
			if err != nil {
				return
			}
			f := strings.Fields(line)
			if len(f) == 2 && f[0] == "get" {
				if v, ok := store.Load(f[1]); ok {
					fmt.Fprintf(c, "VALUE %s 0 %d\r\n%s\r\nEND\r\n", f[1], len(v.(string)), v)
					continue
				}
				fmt.Fprint(c, "END\r\n")
			}
		}
	}
}

// conn is one client connection with its buffered reader and writer, the way
// memcached clients keep them.
type conn struct {
	nc     net.Conn
	rw     *bufio.ReadWriter
	opened time.Time
}

type cacheClient struct {
	addr string
	mu   sync.Mutex
	live map[net.Conn]*conn // open connections, listed on /debug/conns
}

func (cc *cacheClient) dial() (*conn, error) {
	nc, err := net.DialTimeout("tcp", cc.addr, time.Second)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, rw: bufio.NewReadWriter(bufio.NewReader(nc), bufio.NewWriter(nc)), opened: time.Now()}
	cc.mu.Lock()
	cc.live[nc] = c
	cc.mu.Unlock()
	return c, nil
}

func (cc *cacheClient) close(c *conn) {
	cc.mu.Lock()
	delete(cc.live, c.nc)
	cc.mu.Unlock()
	c.nc.Close()
}

// lookup asks the cache for a user's profile.
func (cc *cacheClient) lookup(user string) (string, bool, error) {
	c, err := cc.dial() // FAULT(connection-leak)
	if err != nil {
		return "", false, err
	}
	c.nc.SetDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(c.rw, "get %s\r\n", user)
	if err := c.rw.Flush(); err != nil {
		return "", false, err
	}
	head, err := c.rw.ReadString('\n')
	if err != nil || strings.HasPrefix(head, "END") {
		return "", false, err
	}
	val, err := c.rw.ReadString('\n')
	return strings.TrimSpace(val), err == nil, err
}

func main() {
	store := &sync.Map{}
	for i := 0; i < 100; i++ {
		store.Store(fmt.Sprintf("user%d", i), fmt.Sprintf(`{"name":"User %d","plan":"pro"}`, i))
	}
	cc := &cacheClient{addr: svc.TCPUpstream(cacheServer(store)), live: map[net.Conn]*conn{}}
	s := svc.Start("memclient")
	s.Handle("/profile", func(w http.ResponseWriter, r *http.Request) {
		v, ok, err := cc.lookup(r.URL.Query().Get("user"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, v)
	})
	s.Handle("/debug/conns", func(w http.ResponseWriter, r *http.Request) {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		fmt.Fprintf(w, "%d open cache connections\n", len(cc.live))
	})
	s.Rate(25, func(i int) { s.Get(fmt.Sprintf("/profile?user=user%d", i%120)) })
	s.Serve()
}
