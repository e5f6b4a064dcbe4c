// geometry simplifies GPS tracks: it builds a point list per track and drops
// points that do not change the shape much.
package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"

	"godiag.scenarios/internal/svc"
)

type point struct {
	Lat, Lon float64
	Next     *point
}

// buildTrack turns a track id into its list of points.
func buildTrack(id, n int) *point {
	var head, tail *point
	for i := 0; i < n; i++ {
		p := &point{Lat: 48 + float64(id%50)/100 + math.Sin(float64(i)/30)/100, Lon: 2 + float64(i)/5000} // FAULT(gc-pressure)
		if head == nil {
			head = p
		} else {
			tail.Next = p
		}
		tail = p
	}
	return head
}

// simplify keeps a point only when it bends the track enough.
func simplify(head *point, eps float64) int {
	kept := 1
	prev := head
	for p := head.Next; p != nil; p = p.Next {
		if math.Abs(p.Lat-prev.Lat)+math.Abs(p.Lon-prev.Lon) > eps {
			kept++
			prev = p
		}
	}
	return kept
}

func main() {
	s := svc.Start("geometry")
	s.Handle("/simplify", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.URL.Query().Get("track"))
		fmt.Fprintf(w, "%d points kept\n", simplify(buildTrack(id, 50000), 0.001))
	})
	s.Workers(3, 0, func(int) { s.Get(fmt.Sprintf("/simplify?track=%d", rand.IntN(500))) })
	s.Serve()
}
