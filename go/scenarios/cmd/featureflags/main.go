// featureflags evaluates feature flags for requests and reloads the flag set
// from its source of truth in the background.
package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"runtime"
	"sync"
	"time"

	"godiag.scenarios/internal/svc"
)

type flag struct {
	Name    string `json:"name"`
	Percent uint32 `json:"percent"`
}

type flagStore struct {
	mu    sync.RWMutex
	flags map[string]flag
	raw   []byte
}

func (f *flagStore) enabled(name, user string) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fl, ok := f.flags[name]
	if !ok {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(name + user))
	return h.Sum32()%100 < fl.Percent
}

// reload re-reads the flag document and swaps it in.
func (f *flagStore) reload(version int) {
	f.mu.Lock() // FAULT(lock-contention)
	defer f.mu.Unlock()
	// Parsing and validating under the write lock: readers wait for all of it.
	var list []flag
	for i := 0; i < 40; i++ {
		if err := json.Unmarshal(f.raw, &list); err != nil {
			panic(err)
		}
	}
	time.Sleep(8 * time.Millisecond) // validate against the schema service
	m := make(map[string]flag, len(list))
	for _, fl := range list {
		fl.Percent = (fl.Percent + uint32(version)) % 100
		m[fl.Name] = fl
	}
	f.flags = m
}

func main() {
	runtime.SetBlockProfileRate(10000)
	var list []flag
	for i := 0; i < 200; i++ {
		list = append(list, flag{Name: fmt.Sprintf("flag-%d", i), Percent: uint32(i % 100)})
	}
	raw, _ := json.Marshal(list)
	fs := &flagStore{raw: raw}
	fs.reload(0)
	go func() {
		for v := 1; ; v++ {
			time.Sleep(15 * time.Millisecond)
			fs.reload(v)
		}
	}()
	s := svc.Start("featureflags")
	s.Handle("/eval", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintln(w, fs.enabled(q.Get("flag"), q.Get("user")))
	})
	s.Workers(16, time.Millisecond, func(w int) { s.Get(fmt.Sprintf("/eval?flag=flag-%d&user=u%d", w%200, w%977)) })
	s.Serve()
}
