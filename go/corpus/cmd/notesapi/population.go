package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"godiag.corpus/internal/expose"
)

// population is the simulated user base: each user is a goroutine with its own habits,
// working in a pair whose members share notes with each other.
type population struct {
	e      *expose.Env
	base   string
	client *http.Client
	users  []*user
}

type user struct {
	name  string
	team  []string
	known []int64 // note ids this user has seen
	rids  []string
}

func newPopulation(e *expose.Env, n int) *population {
	p := &population{e: e, base: e.URL, client: &http.Client{Timeout: 8 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}}
	first := []string{"ana", "bo", "chen", "dara", "eli", "fay", "gus", "hana", "ivo", "jun", "kai", "lea"}
	for i := 0; i < n; i++ {
		p.users = append(p.users, &user{name: fmt.Sprintf("%s%02d", first[i%len(first)], i)})
	}
	for i, u := range p.users {
		t := i / 2 * 2
		for j := t; j < t+2 && j < n; j++ {
			if j != i {
				u.team = append(u.team, p.users[j].name)
			}
		}
	}
	return p
}

func (p *population) run() {
	for _, u := range p.users {
		go p.e.Every(3.5+rand.Float64()*1.5, func() { p.act(u) })
	}
	if p.e.Variant == "bulk-import" {
		go p.e.Every(0.3, p.importBatch)
	}
}

// call sends one request and decodes a JSON answer into out (when given).
func (p *population) call(method, path string, in, out any) (int, http.Header) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.base+path, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header
}

func (p *population) act(u *user) {
	switch r := rand.IntN(100); {
	case r < 30:
		var page listPage
		p.call("GET", fmt.Sprintf("/v1/users/%s/notes?page=%d&size=%d", u.name, rand.IntN(3), []int{20, 50, 100}[rand.IntN(3)]), nil, &page)
		for _, n := range page.Notes {
			u.remember(n.ID)
		}
	case r < 50:
		var n Note
		if code, _ := p.call("POST", "/v1/users/"+u.name+"/notes", noteInput{Title: sentence(3 + rand.IntN(4)),
			Body: sentence(20 + rand.IntN(60)), Tags: []string{words[rand.IntN(len(words))]}}, &n); code == 201 {
			u.remember(n.ID)
		}
	case r < 62:
		if id, ok := u.pick(); ok {
			if code, h := p.call("GET", fmt.Sprintf("/v1/notes/%d", id), nil, nil); code == 200 && rand.IntN(4) == 0 {
				u.rids = append(u.rids[max(0, len(u.rids)-20):], h.Get("X-Request-Id"))
			}
		}
	case r < 70:
		if id, ok := u.pick(); ok {
			p.call("PUT", fmt.Sprintf("/v1/notes/%d", id), noteInput{Title: sentence(4), Body: sentence(50)}, nil)
		}
	case r < 75:
		if id, ok := u.pick(); ok {
			p.call("DELETE", fmt.Sprintf("/v1/notes/%d", id), nil, nil)
			u.forget(id)
		}
	case r < 84:
		owner := ""
		if rand.IntN(3) == 0 {
			owner = "&owner=" + u.name
		}
		p.call("GET", "/v1/search?q="+words[rand.IntN(len(words))]+owner, nil, nil)
	case r < 98:
		if id, ok := u.pick(); ok && len(u.team) > 0 {
			p.call("POST", fmt.Sprintf("/v1/notes/%d/share", id), map[string]string{"to": u.team[rand.IntN(len(u.team))]}, nil)
		}
	default:
		if len(u.rids) > 0 {
			p.call("GET", "/v1/audit/"+u.rids[rand.IntN(len(u.rids))], nil, nil)
		}
	}
}

func (u *user) remember(id int64) {
	for _, k := range u.known {
		if k == id {
			return
		}
	}
	u.known = append(u.known, id)
	if len(u.known) > 200 {
		u.known = u.known[len(u.known)-100:]
	}
}

func (u *user) forget(id int64) {
	for i, k := range u.known {
		if k == id {
			u.known = append(u.known[:i], u.known[i+1:]...)
			return
		}
	}
}

func (u *user) pick() (int64, bool) {
	if len(u.known) == 0 {
		return 0, false
	}
	return u.known[rand.IntN(len(u.known))], true
}

// importBatch is the nightly-style importer, run as bursts: a few hundred notes at once.
func (p *population) importBatch() {
	u := p.users[rand.IntN(len(p.users))]
	n := int(200 + 200*p.e.Factor())
	batch := make([]noteInput, n)
	for i := range batch {
		batch[i] = noteInput{Title: "imported " + sentence(3), Body: strings.Repeat(sentence(10)+". ", 3)}
	}
	p.call("POST", "/v1/import", map[string]any{"owner": u.name, "notes": batch}, nil)
}
