// loggrep lets operators search the recent log buffer with a wildcard pattern
// ("*status=5*", "*items/1*dur=9*").
package main

import (
	"fmt"
	"net/http"
	"strings"

	"godiag.scenarios/internal/svc"
)

type grepper struct {
	lines []string
}

// match reports whether s matches the wildcard pattern p ('*' matches any run of
// bytes, '?' one byte). It backtracks on every '*': each star retries the rest of
// the pattern at every later offset, so a pattern with several stars costs
// O(len(s)^stars) on a line that almost matches.
func match(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := 0; i <= len(s); i++ {
				if match(p[1:], s[i:]) { // FAULT(cpu-saturation)
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
		default:
			if len(s) == 0 || s[0] != p[0] {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}

// search returns the lines matching pattern.
func (g *grepper) search(pattern string) []string {
	var out []string
	for _, line := range g.lines {
		if match(pattern, line) {
			out = append(out, line)
		}
	}
	return out
}

func main() {
	g := &grepper{}
	for i := 0; i < 2000; i++ {
		g.lines = append(g.lines, fmt.Sprintf("2024-05-01T10:%02d:%02d level=info msg=\"served request\" path=/api/items/%d status=%d dur=%dms", i/60%60, i%60, i, 200+i%5*100, i%97))
	}
	s := svc.Start("loggrep")
	s.Handle("/grep", func(w http.ResponseWriter, r *http.Request) {
		hits := g.search(r.URL.Query().Get("q"))
		fmt.Fprintf(w, "%d matches\n%s", len(hits), strings.Join(hits[:min(len(hits), 5)], "\n"))
	})
	patterns := []string{"*status=5*", "*items/1*=2*dur=9*", "*e*e*e*x", "*=*=*=*=*x"}
	s.Workers(4, 0, func(w int) { s.Get("/grep?q=" + patterns[w%len(patterns)]) })
	s.Serve()
}
