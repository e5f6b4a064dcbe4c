package cancel

import (
	"context"
	"fmt"
)

func watch(parent context.Context) {
	ctx, _ := context.WithCancel(parent)
	go func() {
		<-ctx.Done() // want `goroutine waits on ctx.Done\(\) but the cancel function of ctx is discarded`
		fmt.Println("stopped")
	}()
}

func watchSelect(parent context.Context, work chan int) {
	ctx, _ := context.WithCancelCause(parent)
	go func() {
		for {
			select {
			case <-work:
			case <-ctx.Done(): // want `goroutine waits on ctx.Done\(\)`
				return
			}
		}
	}()
}

func kept(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() {
		<-ctx.Done()
	}()
}

// The cancel escapes to the caller.
func returned(parent context.Context) context.CancelFunc {
	ctx, cancel := context.WithCancel(parent)
	go func() { <-ctx.Done() }()
	return cancel
}

// Nobody waits on Done.
func noWatcher(parent context.Context) context.Context {
	ctx, _ := context.WithCancel(parent)
	return ctx
}
