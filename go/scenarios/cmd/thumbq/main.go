// thumbq renders thumbnails with a fixed worker pool behind a bounded queue;
// requests wait for their result or give up with their context.
package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strconv"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type job struct {
	size   int
	result chan []byte // buffered: a worker never blocks on an abandoned job
}

func render(size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 3), uint8(y * 5), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	_ = encoder.Encode(&b, img)
	return b.Bytes()
}

// encoder reuses its compression buffers across thumbnails.
var encoder = &png.Encoder{BufferPool: &encoderPool{}}

type encoderPool struct{ p sync.Pool }

func (e *encoderPool) Get() *png.EncoderBuffer {
	b, _ := e.p.Get().(*png.EncoderBuffer)
	return b
}

func (e *encoderPool) Put(b *png.EncoderBuffer) { e.p.Put(b) }

func worker(queue <-chan job) {
	for j := range queue {
		j.result <- render(j.size)
	}
}

func main() {
	queue := make(chan job, 32)
	for i := 0; i < 2; i++ {
		go worker(queue)
	}
	s := svc.Start("thumbq")
	s.Handle("/thumb", func(w http.ResponseWriter, r *http.Request) {
		size, _ := strconv.Atoi(r.URL.Query().Get("size"))
		if size <= 0 || size > 128 {
			size = 32
		}
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		j := job{size: size, result: make(chan []byte, 1)}
		select {
		case queue <- j:
		case <-ctx.Done():
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		select {
		case b := <-j.result:
			w.Header().Set("Content-Type", "image/png")
			w.Write(b)
		case <-ctx.Done():
			http.Error(w, "timeout", http.StatusGatewayTimeout)
		}
	})
	s.Rate(25, func(i int) { s.Get(fmt.Sprintf("/thumb?size=%d", 16+i%16)) })
	s.Serve()
}
