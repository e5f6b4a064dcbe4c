// loggrep lets operators search the recent log buffer with a pattern.
package main

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"godiag.scenarios/internal/svc"
)

type grepper struct {
	lines []string
}

// search returns the lines matching pattern.
func (g *grepper) search(pattern string) ([]string, error) {
	var out []string
	for _, line := range g.lines {
		re, err := regexp.Compile(pattern) // FAULT(cpu-saturation)
		if err != nil {
			return nil, err
		}
		if re.MatchString(line) {
			out = append(out, line)
		}
	}
	return out, nil
}

func main() {
	g := &grepper{}
	for i := 0; i < 2000; i++ {
		g.lines = append(g.lines, fmt.Sprintf("2024-05-01T10:%02d:%02d level=info msg=\"served request\" path=/api/items/%d status=%d dur=%dms", i/60%60, i%60, i, 200+i%5*100, i%97))
	}
	s := svc.Start("loggrep")
	s.Handle("/grep", func(w http.ResponseWriter, r *http.Request) {
		hits, err := g.search(r.URL.Query().Get("re"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d matches\n%s", len(hits), strings.Join(hits[:min(len(hits), 5)], "\n"))
	})
	patterns := []string{`status=5\d\d`, `path=/api/items/1\d+ `, `dur=9[0-9]ms`, `(?i)ERROR|panic`}
	s.Workers(4, 0, func(w int) { s.Get("/grep?re=" + patterns[w%len(patterns)]) })
	s.Serve()
}
