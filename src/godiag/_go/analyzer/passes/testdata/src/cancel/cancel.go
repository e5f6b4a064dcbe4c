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

// A library: callers outside the package may call Rollback, so a cancel kept
// in a field is not judged here.
type tx struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func begin(ctx context.Context) *tx {
	ctx, cancel := context.WithCancel(ctx)
	t := &tx{ctx: ctx, cancel: cancel}
	go t.awaitDone()
	return t
}

func (t *tx) awaitDone() { <-t.ctx.Done() }
func (t *tx) Rollback()  { t.close() }
func (t *tx) close()     { t.cancel() }
