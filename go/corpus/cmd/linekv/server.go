package main

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// quirks of this build of the server; main sets them from -variant.
type quirks struct {
	flushScanLocked bool // SCAN writes and flushes each entry with the keyspace locked
	concatScan      bool // SCAN's reply is built by string concatenation
	writerOnlyQuit  bool // the reply writer is stopped only when the client says QUIT
	sweepUpgrade    bool // the expiry sweep deletes while holding the read lock
}

type server struct {
	q  quirks
	kv *store
}

func (srv *server) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go srv.session(c)
	}
}

// session reads commands line by line; replies go through a writer goroutine so a slow
// client's socket does not hold up reading its pipelined commands.
func (srv *server) session(c net.Conn) {
	replies := make(chan string, 64)
	go srv.writer(c, replies)
	r := bufio.NewReaderSize(c, 8<<10)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.Close()
			if srv.q.writerOnlyQuit {
				return // FAULT(goroutine-leak:writer-left-behind)
			}
			close(replies)
			return
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		cmd := strings.ToUpper(f[0])
		if cmd == "QUIT" {
			replies <- "+BYE\n"
			close(replies)
			return
		}
		if cmd == "SCAN" {
			// SCAN streams its reply itself; wait for earlier replies to be written first
			srv.scan(c, f[1:], replies)
			continue
		}
		replies <- srv.exec(cmd, f[1:])
	}
}

func (srv *server) writer(c net.Conn, replies <-chan string) {
	w := bufio.NewWriterSize(c, 8<<10)
	for rep := range replies {
		if _, err := w.WriteString(rep); err != nil {
			continue // keep draining so the reader never blocks
		}
		if len(replies) == 0 {
			_ = w.Flush()
		}
	}
}

func (srv *server) exec(cmd string, args []string) string {
	now := time.Now()
	switch {
	case cmd == "PING":
		return "+PONG\n"
	case cmd == "GET" && len(args) == 1:
		if v, ok := srv.kv.get(args[0], now); ok {
			return "$" + v + "\n"
		}
		return "$-\n"
	case cmd == "SET" && len(args) == 2:
		srv.kv.set(args[0], args[1])
		return "+OK\n"
	case cmd == "DEL" && len(args) >= 1:
		n := 0
		for _, k := range args {
			if srv.kv.del(k) {
				n++
			}
		}
		return ":" + strconv.Itoa(n) + "\n"
	case cmd == "EXPIRE" && len(args) == 2:
		secs, err := strconv.Atoi(args[1])
		if err != nil || secs < 0 {
			return "-ERR bad ttl\n"
		}
		if srv.kv.expire(args[0], now.Add(time.Duration(secs)*time.Second)) {
			return ":1\n"
		}
		return ":0\n"
	}
	return "-ERR unknown command or arity\n"
}

// scan: SCAN cursor [MATCH pattern] [COUNT n] answers "*N next" then N "key value" lines.
func (srv *server) scan(c net.Conn, args []string, replies chan<- string) {
	cursor, pattern, count := 0, "*", 100
	if len(args) > 0 {
		cursor, _ = strconv.Atoi(args[0])
	}
	for i := 1; i+1 < len(args); i += 2 {
		switch strings.ToUpper(args[i]) {
		case "MATCH":
			pattern = args[i+1]
		case "COUNT":
			count, _ = strconv.Atoi(args[i+1])
		}
	}
	now := time.Now()
	kv := srv.kv
	switch {
	case srv.q.flushScanLocked:
		// stream straight from the keyspace instead of copying a page of it; the client
		// waits for this reply, so nothing else is being written to the connection
		w := bufio.NewWriter(c)
		kv.mu.RLock()
		var rows []string
		next := kv.scanLocked(cursor, count, pattern, now, func(k, v string) { rows = append(rows, k) })
		fmt.Fprintf(w, "*%d %d\n", len(rows), next)
		for _, k := range rows {
			fmt.Fprintf(w, "%s %s\n", k, kv.data[k].val)
			_ = w.Flush() // FAULT(lock-contention:scan-flush-locked)
		}
		kv.mu.RUnlock()
	case srv.q.concatScan:
		var pages []string
		page, n := "", 0
		kv.mu.RLock()
		next := kv.scanLocked(cursor, count, pattern, now, func(k, v string) {
			page = page + k + " " + v + "\n" // FAULT(gc-pressure:scan-concat)
			if n++; n%50 == 0 {
				pages = append(pages, page)
				page = ""
			}
		})
		kv.mu.RUnlock()
		replies <- fmt.Sprintf("*%d %d\n", n, next) + strings.Join(pages, "") + page
	default:
		var sb strings.Builder
		n := 0
		kv.mu.RLock()
		next := kv.scanLocked(cursor, count, pattern, now, func(k, v string) {
			sb.WriteString(k)
			sb.WriteByte(' ')
			sb.WriteString(v)
			sb.WriteByte('\n')
			n++
		})
		kv.mu.RUnlock()
		replies <- fmt.Sprintf("*%d %d\n", n, next) + sb.String()
	}
}
