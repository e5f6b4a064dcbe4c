// metricfmt is a metrics relay: agents post samples, the relay re-labels them
// and renders them in the text exposition format for the next hop.
package main

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"godiag.scenarios/internal/svc"
)

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// render formats one sample, label by label.
func render(s sample) string {
	out := s.name + "{"
	for k, v := range s.labels {
		out += fmt.Sprintf("%s=%q,", k, v) // FAULT(gc-pressure)
	}
	return strings.TrimSuffix(out, ",") + "} " + strconv.FormatFloat(s.value, 'g', -1, 64)
}

func main() {
	s := svc.Start("metricfmt")
	s.Handle("/relay", func(w http.ResponseWriter, r *http.Request) {
		host := r.URL.Query().Get("host")
		n := 0
		for i := 0; i < 2000; i++ {
			smp := sample{name: "http_request_duration_seconds_bucket", value: float64(i),
				labels: map[string]string{"host": host, "le": strconv.Itoa(i % 12), "code": "200", "route": "/api/v1/orders/{id}", "region": "eu-west-1"}}
			n += len(render(smp))
		}
		fmt.Fprintf(w, "%d bytes relayed\n", n)
	})
	s.Workers(3, 5*time.Millisecond, func(w int) { s.Get(fmt.Sprintf("/relay?host=node-%d", w)) })
	s.Serve()
}
