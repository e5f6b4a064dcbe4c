package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// conn is one client connection speaking the line protocol.
type conn struct {
	c    net.Conn
	r    *bufio.Reader
	uses int
}

// open tracks the client's connections for its "connections open" gauge.
var open struct {
	sync.Mutex
	conns map[*conn]time.Time
}

func dialKV(addr string) (*conn, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	cn := &conn{c: c, r: bufio.NewReaderSize(c, 16<<10)}
	open.Lock()
	if open.conns == nil {
		open.conns = map[*conn]time.Time{}
	}
	open.conns[cn] = time.Now()
	open.Unlock()
	return cn, nil
}

func (c *conn) close() {
	open.Lock()
	delete(open.conns, c)
	open.Unlock()
	_ = c.c.Close()
}

func (c *conn) do(args ...string) (string, error) {
	c.uses++
	_ = c.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.c.Write([]byte(strings.Join(args, " ") + "\n")); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\n")
	if strings.HasPrefix(line, "-") {
		return "", errors.New(line[1:])
	}
	return line, nil
}

// scan runs one SCAN step and returns the rows and the next cursor.
func (c *conn) scan(cursor int, match string, count int) ([]string, int, error) {
	head, err := c.do("SCAN", strconv.Itoa(cursor), "MATCH", match, "COUNT", strconv.Itoa(count))
	if err != nil {
		return nil, 0, err
	}
	var n, next int
	if _, err := fmt.Sscanf(head, "*%d %d", &n, &next); err != nil {
		return nil, 0, fmt.Errorf("bad scan header %q", head)
	}
	rows := make([]string, 0, n)
	for i := 0; i < n; i++ {
		row, err := c.r.ReadString('\n')
		if err != nil {
			return nil, 0, err
		}
		rows = append(rows, row)
	}
	return rows, next, nil
}

// pool hands out connections, at most max open; a connection is retired after
// maxUses commands so the server's per-connection state is renewed now and then.
type pool struct {
	addr    string
	max     int
	maxUses int
	spin    bool // an exhausted pool is polled again at once instead of waited on

	mu   sync.Mutex
	idle []*conn
	open int
	back chan struct{} // a token per Put, for waiters
}

func newPool(addr string, max, maxUses int, spin bool) *pool {
	return &pool{addr: addr, max: max, maxUses: maxUses, spin: spin, back: make(chan struct{}, max)}
}

func (p *pool) tryGet() (*conn, bool, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, true, nil
	}
	if p.open >= p.max {
		p.mu.Unlock()
		return nil, false, nil
	}
	p.open++
	p.mu.Unlock()
	c, err := dialKV(p.addr)
	if err != nil {
		p.mu.Lock()
		p.open--
		p.mu.Unlock()
		return nil, false, err
	}
	return c, true, nil
}

func (p *pool) get() (*conn, error) {
	for {
		c, ok, err := p.tryGet()
		if ok || err != nil {
			return c, err
		}
		if p.spin {
			continue // FAULT(cpu-saturation:pool-spin)
		}
		select {
		case <-p.back:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// put returns a connection; a broken or worn-out one is closed instead.
func (p *pool) put(c *conn, broken bool) {
	if broken || c.uses >= p.maxUses {
		c.close()
		p.mu.Lock()
		p.open--
		p.mu.Unlock()
	} else {
		p.mu.Lock()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	select {
	case p.back <- struct{}{}:
	default:
	}
}

// warm opens n connections and parks them idle.
func (p *pool) warm(n int) {
	var cs []*conn
	for i := 0; i < n; i++ {
		if c, err := p.get(); err == nil {
			cs = append(cs, c)
		}
	}
	for _, c := range cs {
		p.put(c, false)
	}
}
