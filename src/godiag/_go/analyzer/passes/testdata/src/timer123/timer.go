//go:build go1.23

// Since Go 1.23 unreferenced tickers are garbage collected: nothing to report.
package timer123

import (
	"context"
	"time"
)

func poll(ctx context.Context, f func()) {
	for range time.Tick(time.Second) {
		if ctx.Err() != nil {
			return
		}
		f()
	}
}
