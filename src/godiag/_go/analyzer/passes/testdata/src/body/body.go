package body

import (
	"errors"
	"io"
	"net/http"
)

func never(url string) (int, error) {
	resp, err := http.Get(url) // want `response body of resp is never closed`
	if err != nil {
		return 0, err
	}
	return resp.StatusCode, nil
}

func statusFirst(c *http.Client, req *http.Request) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status) // want `return before resp.Body is closed`
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

func good(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New(resp.Status)
	}
	return io.ReadAll(resp.Body)
}

func closedOnBranch(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, errors.New(resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return b, err
}

// The caller owns the response.
func handedBack(url string) (*http.Response, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// Given to a helper that may close it.
func drained(url string, drain func(io.ReadCloser)) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	drain(resp.Body)
	return nil
}

func closeReturned(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

// Read to EOF: the transport gets the connection back even without Close.
func readToEOF(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(resp.Body)
}
