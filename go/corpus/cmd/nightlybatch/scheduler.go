package main

import (
	"context"
	"sync/atomic"
	"time"
)

// job is one scheduled batch. A tick that finds the previous run still going is
// skipped, as cron-style runners do.
type job struct {
	name    string
	every   time.Duration
	run     func(ctx context.Context) runSummary
	running atomic.Bool
	skipped atomic.Int64
}

type scheduler struct {
	jobs []*job
}

func (s *scheduler) add(name string, every time.Duration, run func(ctx context.Context) runSummary) {
	s.jobs = append(s.jobs, &job{name: name, every: every, run: run})
}

func (s *scheduler) start(ctx context.Context) {
	for _, j := range s.jobs {
		go s.loop(ctx, j)
	}
}

func (s *scheduler) loop(ctx context.Context, j *job) {
	t := time.NewTicker(j.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !j.running.CompareAndSwap(false, true) {
			j.skipped.Add(1)
			continue
		}
		go func() {
			defer j.running.Store(false)
			runCtx, cancel := context.WithTimeout(ctx, 10*j.every)
			defer cancel()
			j.run(runCtx)
		}()
	}
}
