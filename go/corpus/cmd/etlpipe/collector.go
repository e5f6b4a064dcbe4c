package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// collector is the upstream: it writes spool files of readings, one line each:
// id|unix-millis|site|device|kind|value|unit
type collector struct {
	dir    string
	seq    int
	factor func() float64
	rng    *rand.Rand
}

var kinds = []string{"temp", "humidity", "co2", "pressure", "power", "vibration", "flow", "lux"}
var units = map[string]string{"temp": "C", "humidity": "%", "co2": "ppm", "pressure": "hPa",
	"power": "W", "vibration": "mm/s", "flow": "l/min", "lux": "lx"}

func newCollector(dir string, factor func() float64) *collector {
	_ = os.MkdirAll(dir, 0o755)
	return &collector{dir: dir, factor: factor, rng: rand.New(rand.NewPCG(42, 4242))}
}

func (c *collector) drop() (string, error) {
	if shuttingDown.Load() {
		return "", os.ErrClosed
	}
	c.seq++
	name := filepath.Join(c.dir, fmt.Sprintf("batch-%07d.spool", c.seq))
	tmp := name + ".part"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	n := 400
	now := time.Now().UnixMilli()
	for i := 0; i < n; i++ {
		site := c.rng.IntN(4000)
		kind := kinds[c.rng.IntN(len(kinds))]
		unit := units[kind]
		if c.rng.IntN(1500) == 0 {
			unit = "?" // firmware reporting an unknown unit now and then
		}
		// about 3000 devices report at a time; the fleet turns over as devices are replaced
		device := (c.seq*7 + c.rng.IntN(3000)) % 100000
		fmt.Fprintf(w, "r%07d-%03d|%d|site-%04d|dev-%05d|%s|%s|%s\n", c.seq, i, now-int64(c.rng.IntN(3000)),
			site, device, kind, strconv.FormatFloat(c.rng.NormFloat64()*10+50, 'f', 2, 64), unit)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return name, os.Rename(tmp, name)
}
