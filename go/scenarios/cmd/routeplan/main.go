// routeplan computes delivery routes between depots on a road network.
package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"

	"godiag.scenarios/internal/svc"
)

type network struct {
	n    int
	dist []float64 // n*n road lengths, Inf where there is no road
}

func newNetwork(n int, seed uint64) *network {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := &network{n: n, dist: make([]float64, n*n)}
	for i := range g.dist {
		g.dist[i] = math.Inf(1)
		if rng.IntN(10) == 0 {
			g.dist[i] = 1 + rng.Float64()*20
		}
	}
	return g
}

// shortest computes all-pairs shortest paths for every request.
func (g *network) shortest(from, to int) float64 {
	n := g.n
	d := make([]float64, n*n)
	copy(d, g.dist)
	for k := 0; k < n; k++ {
		for i := 0; i < n; i++ {
			dik := d[i*n+k]
			for j := 0; j < n; j++ {
				if v := dik + d[k*n+j]; v < d[i*n+j] { // FAULT(cpu-saturation)
					d[i*n+j] = v
				}
			}
		}
	}
	return d[from*n+to]
}

func main() {
	g := newNetwork(160, 7)
	s := svc.Start("routeplan")
	s.Handle("/route", func(w http.ResponseWriter, r *http.Request) {
		a, _ := strconv.Atoi(r.URL.Query().Get("from"))
		b, _ := strconv.Atoi(r.URL.Query().Get("to"))
		fmt.Fprintf(w, "%.1f km\n", g.shortest(a%g.n, b%g.n))
	})
	s.Workers(3, 0, func(int) { s.Get(fmt.Sprintf("/route?from=%d&to=%d", rand.IntN(160), rand.IntN(160))) })
	s.Serve()
}
