// geoindex answers "what is near me" queries from an in-memory index of
// places, tuned at startup to keep its memory footprint small.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"

	"godiag.scenarios/internal/svc"
)

type place struct {
	Name     string
	Lat, Lon float64
	Tags     []string
}

type index struct {
	cells map[int][]*place
}

func cell(lat, lon float64) int { return int(lat*10)*10000 + int(lon*10) }

func (x *index) near(lat, lon float64, k int) []hit {
	var cand []*place
	for dl := -1; dl <= 1; dl++ {
		for dn := -1; dn <= 1; dn++ {
			cand = append(cand, x.cells[cell(lat+float64(dl)/10, lon+float64(dn)/10)]...)
		}
	}
	hits := make([]hit, 0, len(cand))
	for _, p := range cand {
		hits = append(hits, hit{Place: *p, Km: 111 * math.Hypot(p.Lat-lat, p.Lon-lon)})
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].Km < hits[j].Km })
	return hits[:min(k, len(hits))]
}

type hit struct {
	Place place
	Km    float64
}

func main() {
	debug.SetGCPercent(5) // FAULT(gc-pressure)
	x := &index{cells: map[int][]*place{}}
	for i := 0; i < 300000; i++ {
		lat, lon := 40+float64(i%1000)/100, float64(i/1000)/30
		p := &place{Name: fmt.Sprintf("place-%d", i), Lat: lat, Lon: lon, Tags: []string{"cafe", "open-late"}}
		x.cells[cell(lat, lon)] = append(x.cells[cell(lat, lon)], p)
	}
	s := svc.Start("geoindex")
	s.Handle("/near", func(w http.ResponseWriter, r *http.Request) {
		lat, _ := strconv.ParseFloat(r.URL.Query().Get("lat"), 64)
		lon, _ := strconv.ParseFloat(r.URL.Query().Get("lon"), 64)
		_ = json.NewEncoder(w).Encode(x.near(lat, lon, 25))
	})
	s.Rate(300, func(i int) { s.Get(fmt.Sprintf("/near?lat=%.2f&lon=%.2f", 40+float64(i%900)/100, float64(i%300)/30)) })
	s.Serve()
}
