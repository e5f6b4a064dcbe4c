package transport

import (
	"net/http"
	"time"
)

func perCall(url string) error {
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 10}} // want `http.Transport created per call`
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func perCallVar(req *http.Request) error {
	tr := &http.Transport{IdleConnTimeout: time.Minute} // want `http.Transport created per call`
	c := http.Client{Transport: tr, Timeout: time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func roundTrip(req *http.Request) error {
	tr := &http.Transport{} // want `http.Transport created per call`
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Built once and returned: the caller reuses it.
func NewClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: 10}}
}

var shared *http.Client

func setup() {
	tr := &http.Transport{}
	shared = &http.Client{Transport: tr}
}

func noKeepAlive(url string) error {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func cleaned(url string) error {
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
