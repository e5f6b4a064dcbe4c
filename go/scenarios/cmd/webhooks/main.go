// webhooks delivers event notifications to subscriber endpoints.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"godiag.scenarios/internal/svc"
)

type delivery struct {
	Event string `json:"event"`
	ID    int64  `json:"id"`
}

// deliver posts one event to a subscriber with its own timeout settings.
func deliver(url string, d delivery) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{ResponseHeaderTimeout: time.Second}, // FAULT(connection-leak)
	}
	body, _ := json.Marshal(d)
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("subscriber answered %s", resp.Status)
	}
	return nil
}

func main() {
	var received atomic.Int64
	subscriber := svc.Upstream(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	var next atomic.Int64
	s := svc.Start("webhooks")
	s.Handle("/publish", func(w http.ResponseWriter, r *http.Request) {
		d := delivery{Event: r.URL.Query().Get("event"), ID: next.Add(1)}
		if err := deliver(subscriber+"/hook", d); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		fmt.Fprintf(w, "delivered %d (subscriber has %d)\n", d.ID, received.Load())
	})
	s.Rate(25, func(i int) { s.Get(fmt.Sprintf("/publish?event=order.created&n=%d", i)) })
	s.Serve()
}
