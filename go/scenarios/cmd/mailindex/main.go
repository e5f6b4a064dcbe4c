// mailindex receives raw e-mails and indexes them by their subject line so the
// search endpoint can list subjects quickly.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"

	"godiag.scenarios/internal/svc"
)

type index struct {
	mu       sync.Mutex
	subjects map[string][]byte
}

// add stores the subject of a message, keyed by message id.
func (x *index) add(r io.Reader) (string, error) {
	msg, err := io.ReadAll(r) // FAULT(memory-leak)
	if err != nil {
		return "", err
	}
	id, subject := header(msg, "Message-Id: "), header(msg, "Subject: ")
	x.mu.Lock()
	x.subjects[string(id)] = subject // a sub-slice: keeps the whole message alive
	x.mu.Unlock()
	return string(id), nil
}

func header(msg []byte, name string) []byte {
	i := bytes.Index(msg, []byte(name))
	if i < 0 {
		return nil
	}
	v := msg[i+len(name):]
	if j := bytes.IndexByte(v, '\n'); j >= 0 {
		v = v[:j]
	}
	return v
}

func main() {
	x := &index{subjects: map[string][]byte{}}
	s := svc.Start("mailindex")
	s.Handle("/mail", func(w http.ResponseWriter, r *http.Request) {
		id, err := x.add(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintln(w, id)
	})
	body := bytes.Repeat([]byte("Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n"), 500)
	s.Rate(80, func(i int) {
		var b bytes.Buffer
		fmt.Fprintf(&b, "Message-Id: <%d@mail.example>\nSubject: invoice %d\n\n", i, i)
		b.Write(body)
		s.Post("/mail", "message/rfc822", b.Bytes())
	})
	s.Serve()
}
