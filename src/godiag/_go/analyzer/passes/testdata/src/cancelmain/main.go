// A program (package main): every caller of the cancel functions is in view.
package main

import (
	"context"
	"io"
)

// A transaction's watcher; the cancel is kept in the struct but only Rollback
// calls it, and nothing calls Rollback.
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

func (t *tx) awaitDone() {
	<-t.ctx.Done() // want `goroutine waits on ctx.Done\(\), but its cancel \(field cancel\) is only called from close`
}

func (t *tx) Rollback() { t.rollback() }
func (t *tx) rollback() { t.close() }
func (t *tx) close()    { t.cancel() }

// The watcher cancels its own context, but only once it is woken.
type rows struct{ cancel context.CancelFunc }

func (r *rows) initContextClose(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	go r.awaitDone(ctx)
}

func (r *rows) awaitDone(ctx context.Context) {
	<-ctx.Done() // want `goroutine waits on ctx.Done\(\), but its cancel \(field cancel\) is only called from close`
	r.close()
}

func (r *rows) close() { r.cancel() }

// Negatives: Rollback is called; Close may be called through io.Closer; the
// cancel is also called by Stop, which main calls; the watcher function is
// called elsewhere too.
type tx2 struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func begin2(ctx context.Context) *tx2 {
	ctx, cancel := context.WithCancel(ctx)
	t := &tx2{ctx: ctx, cancel: cancel}
	go t.awaitDone()
	return t
}

func (t *tx2) awaitDone() { <-t.ctx.Done() }
func (t *tx2) Rollback()  { t.cancel() }

type conn struct {
	ctx    context.Context
	cancel context.CancelFunc
}

func dial(ctx context.Context) io.Closer {
	c := &conn{}
	c.ctx, c.cancel = context.WithCancel(ctx)
	go c.watch()
	return c
}

func (c *conn) watch()       { <-c.ctx.Done() }
func (c *conn) Close() error { c.cancel(); return nil }

type rows2 struct{ cancel context.CancelFunc }

func (r *rows2) start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	go r.awaitDone(ctx)
}

func (r *rows2) awaitDone(ctx context.Context) {
	<-ctx.Done()
	r.cancel()
}

func (r *rows2) Stop() { r.cancel() }

type rows3 struct{ cancel context.CancelFunc }

func (r *rows3) start(ctx context.Context) {
	ctx, r.cancel = context.WithCancel(ctx)
	go r.awaitDone(ctx)
	r.awaitDone(context.Background())
}

func (r *rows3) awaitDone(ctx context.Context) {
	<-ctx.Done()
	r.cancel()
}

func main() {
	ctx := context.Background()
	begin(ctx)
	(&rows{}).initContextClose(ctx)
	begin2(ctx).Rollback()
	_ = dial(ctx)
	r2 := &rows2{}
	r2.start(ctx)
	r2.Stop()
	(&rows3{}).start(ctx)
}
