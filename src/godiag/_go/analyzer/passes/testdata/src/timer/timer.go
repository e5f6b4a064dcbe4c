package timer

import (
	"context"
	"time"
)

func poll(ctx context.Context, f func()) {
	for range time.Tick(time.Second) { // want `time.Tick in a function that returns`
		if ctx.Err() != nil {
			return
		}
		f()
	}
}

func ticker(ctx context.Context, f func()) {
	t := time.NewTicker(time.Second) // want `ticker from time.NewTicker is never stopped`
	for {
		select {
		case <-t.C:
			f()
		case <-ctx.Done():
			return
		}
	}
}

func stopped(ctx context.Context, f func()) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f()
		case <-ctx.Done():
			return
		}
	}
}

// Runs for the life of the process.
func forever(f func()) {
	for range time.Tick(time.Second) {
		f()
	}
}

func foreverLoop(f func()) {
	t := time.NewTicker(time.Second)
	for {
		<-t.C
		f()
	}
}

// Handed to the caller, who must stop it.
func handed() *time.Ticker {
	t := time.NewTicker(time.Second)
	return t
}
