// blobecho is a checksum service: clients upload small blobs and get back
// their digest.
package main

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io"
	"net/http"

	"godiag.scenarios/internal/svc"
)

const maxUpload = 8 << 20

// readBlob reads the request body into a buffer big enough for any upload.
func readBlob(r io.Reader) ([]byte, error) {
	buf := make([]byte, maxUpload) // FAULT(gc-pressure)
	n, err := io.ReadFull(r, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return buf[:n], nil
}

func main() {
	s := svc.Start("blobecho")
	s.Handle("/digest", func(w http.ResponseWriter, r *http.Request) {
		blob, err := readBlob(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%x\n", sha1.Sum(blob))
	})
	payload := bytes.Repeat([]byte("blob"), 256)
	s.Rate(120, func(i int) { s.Post("/digest", "application/octet-stream", payload) })
	s.Serve()
}
