package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// accessLog ships the audit trail's records to the log collector (nil: not configured).
var accessLog *shipper

// shipper sends access records to the log collector over TCP in batches of a fifth of a
// second; the collector acknowledges each batch on the same connection.
type shipper struct {
	addr     string
	perBatch bool // a connection per batch (the collector's old load balancer needed it)
	queue    chan []byte
	conn     net.Conn
	acked    atomic.Int64
	lost     atomic.Int64
}

func newShipper(addr string, perBatch bool) *shipper {
	return &shipper{addr: addr, perBatch: perBatch, queue: make(chan []byte, 4096)}
}

// record queues one access record; when the queue is full the record is dropped, never
// the request.
func (s *shipper) record(e *auditEntry) {
	if s == nil {
		return
	}
	line := fmt.Appendf(nil, "%s %s %s %d %d %s", e.at.UTC().Format(time.RFC3339Nano), e.id,
		e.method, e.status, e.took.Microseconds(), e.path)
	select {
	case s.queue <- line:
	default:
		s.lost.Add(1)
	}
}

func (s *shipper) run() {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var batch bytes.Buffer
	for {
		select {
		case line := <-s.queue:
			batch.Write(line)
			batch.WriteByte('\n')
		case <-tick.C:
			if batch.Len() > 0 {
				s.send(batch.Bytes())
				batch.Reset()
			}
		}
	}
}

func (s *shipper) send(batch []byte) {
	conn := s.conn
	if conn == nil || s.perBatch {
		c, err := net.DialTimeout("tcp", s.addr, time.Second) // FAULT(connection-leak:ship-per-batch)
		if err != nil {
			s.lost.Add(1)
			return
		}
		go s.readAcks(c)
		conn = c
		if !s.perBatch {
			s.conn = c
		}
	}
	_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write(append(batch, '\n')); err != nil {
		conn.Close()
		s.conn = nil
	}
}

func (s *shipper) readAcks(c net.Conn) {
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		s.acked.Add(1)
	}
}

// collector plays the log collector: it reads batches (ended by an empty line) and
// acknowledges each, for as long as the sender keeps the connection.
func collector() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				rd := bufio.NewReaderSize(c, 16<<10)
				for {
					line, err := rd.ReadSlice('\n')
					if err != nil && err != bufio.ErrBufferFull {
						return
					}
					if len(line) == 1 {
						if _, err := c.Write([]byte("ack\n")); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
