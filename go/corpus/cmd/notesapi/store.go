package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// Note is one user's note as stored and as served.
type Note struct {
	ID      int64     `json:"id"`
	Owner   string    `json:"owner"`
	Title   string    `json:"title"`
	Body    string    `json:"body"`
	Tags    []string  `json:"tags"`
	Shared  []string  `json:"shared,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`

	lower string // title+body folded for search
}

type account struct {
	name string
	mu   sync.Mutex // guards inbox and quota
	// notes other users shared with this one
	inbox []int64
	quota int
}

// store keeps everything in memory; the per-user note lists are kept in id order so
// pages are cheap.
type store struct {
	mu       sync.RWMutex
	notes    map[int64]*Note
	byOwner  map[string][]int64
	accounts map[string]*account
	nextID   int64
	maxPer   int
}

func newStore(variant string) *store {
	return &store{notes: map[int64]*Note{}, byOwner: map[string][]int64{},
		accounts: map[string]*account{}, maxPer: 300}
}

func (s *store) account(name string) *account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[name]
	if a == nil {
		a = &account{name: name, quota: 500}
		s.accounts[name] = a
	}
	return a
}

func (s *store) lookupAccount(name string) *account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.accounts[name]
}

// insert adds a note; a user over the limit loses the oldest note (notes expire).
func (s *store) insertLocked(n *Note) {
	s.nextID++
	n.ID = s.nextID
	n.lower = strings.ToLower(n.Title + "\n" + n.Body)
	s.notes[n.ID] = n
	ids := append(s.byOwner[n.Owner], n.ID)
	if len(ids) > s.maxPer {
		delete(s.notes, ids[0])
		ids = ids[1:]
	}
	s.byOwner[n.Owner] = ids
}

func (s *store) get(id int64) (*Note, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.notes[id]
	return n, ok
}

// updateLocked replaces a note by an edited copy (readers may hold the old one).
func (s *store) updateLocked(id int64, edit func(*Note)) (*Note, bool) {
	n, ok := s.notes[id]
	if !ok {
		return nil, false
	}
	c := *n
	edit(&c)
	c.Updated = time.Now()
	c.lower = strings.ToLower(c.Title + "\n" + c.Body)
	s.notes[id] = &c
	return &c, true
}

func (s *store) removeLocked(id int64) bool {
	n, ok := s.notes[id]
	if !ok {
		return false
	}
	delete(s.notes, id)
	ids := s.byOwner[n.Owner]
	i := sort.Search(len(ids), func(i int) bool { return ids[i] >= id })
	if i < len(ids) && ids[i] == id {
		s.byOwner[n.Owner] = append(ids[:i:i], ids[i+1:]...)
	}
	return true
}

// page returns one user's notes, newest first.
func (s *store) page(owner string, page, size int) ([]*Note, int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.byOwner[owner]
	total := len(ids)
	hi := total - page*size
	lo := hi - size
	if lo < 0 {
		lo = 0
	}
	var out []*Note
	for i := hi - 1; i >= lo && i >= 0; i-- {
		if n := s.notes[ids[i]]; n != nil {
			out = append(out, n)
		}
	}
	return out, total
}

// snapshot copies the notes a search may look at (one owner, or everyone's).
func (s *store) snapshot(owner string) []*Note {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if owner != "" {
		out := make([]*Note, 0, len(s.byOwner[owner]))
		for _, id := range s.byOwner[owner] {
			out = append(out, s.notes[id])
		}
		return out
	}
	out := make([]*Note, 0, len(s.notes))
	for _, n := range s.notes {
		out = append(out, n)
	}
	return out
}

var words = strings.Fields(`meeting budget release deploy invoice roadmap groceries
	dentist kafka postgres migration holiday review incident retro hiring offsite
	vendor renewal backlog sprint quarterly onboarding laptop password travel tax
	garden recipe birthday flight hotel conference keynote draft contract`)

func sentence(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rand.IntN(len(words))])
	}
	return b.String()
}

func (s *store) seed(owner string, n int) {
	s.account(owner)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		now := time.Now()
		s.insertLocked(&Note{Owner: owner, Title: sentence(4), Body: sentence(40),
			Tags: []string{words[rand.IntN(len(words))]}, Created: now, Updated: now})
	}
}

func (n *Note) String() string { return fmt.Sprintf("note %d of %s", n.ID, n.Owner) }
