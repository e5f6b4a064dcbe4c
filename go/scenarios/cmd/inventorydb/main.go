// inventorydb serves stock levels from a database reached through a small
// connection pool speaking a line protocol.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"

	"godiag.scenarios/internal/svc"
)

// dbServer is the stand-in database: "GET sku" -> "OK n" or "ERR not found".
func dbServer(c net.Conn) {
	defer c.Close()
	rd := bufio.NewReader(c)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			return
		}
		sku := strings.TrimSpace(strings.TrimPrefix(line, "GET "))
		if strings.HasSuffix(sku, "7") {
			fmt.Fprintf(c, "ERR %s not found\n", sku)
			continue
		}
		fmt.Fprintf(c, "OK %d\n", len(sku)*3)
	}
}

type dbConn struct {
	net.Conn
	rd *bufio.Reader
}

type pool struct {
	addr string
	mu   sync.Mutex
	idle []*dbConn
	all  map[*dbConn]struct{} // every open connection, so shutdown can close them
}

func (p *pool) get() (*dbConn, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	nc, err := net.Dial("tcp", p.addr)
	if err != nil {
		return nil, err
	}
	c := &dbConn{Conn: nc, rd: bufio.NewReader(nc)}
	p.mu.Lock()
	p.all[c] = struct{}{}
	p.mu.Unlock()
	return c, nil
}

func (p *pool) put(c *dbConn) {
	p.mu.Lock()
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

func (p *pool) discard(c *dbConn) {
	p.mu.Lock()
	delete(p.all, c)
	p.mu.Unlock()
	c.Close()
}

var errNotFound = errors.New("not found")

// stock queries one SKU through a pooled connection.
func (p *pool) stock(sku string) (string, error) {
	c, err := p.get() // FAULT(connection-leak)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(c, "GET %s\n", sku)
	line, err := c.rd.ReadString('\n')
	if err != nil {
		p.discard(c)
		return "", err
	}
	if strings.HasPrefix(line, "ERR") {
		return "", errNotFound
	}
	p.put(c)
	return strings.TrimSpace(strings.TrimPrefix(line, "OK ")), nil
}

func main() {
	p := &pool{addr: svc.TCPUpstream(dbServer), all: map[*dbConn]struct{}{}}
	s := svc.Start("inventorydb")
	s.Handle("/stock", func(w http.ResponseWriter, r *http.Request) {
		n, err := p.stock(r.URL.Query().Get("sku"))
		if errors.Is(err, errNotFound) {
			http.NotFound(w, r)
			return
		} else if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, n)
	})
	s.Rate(120, func(i int) { s.Get(fmt.Sprintf("/stock?sku=sku-%d", i%100)) })
	s.Serve()
}
