package waitgroup

import "sync"

func work(i int) error { return nil }

func missingDone(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			if err := work(i); err != nil {
				return // want `goroutine returns here without calling wg.Done`
			}
			wg.Done()
		}(i)
	}
	wg.Wait()
}

func addInside(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		go func() {
			wg.Add(1) // want `wg.Add is called inside the goroutine it counts`
			defer wg.Done()
			_ = work(i)
		}()
	}
	wg.Wait()
}

func deferred(n int) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(i); err != nil {
				return
			}
		}()
	}
	wg.Wait()
}

func doneBeforeReturn(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			if err := work(i); err != nil {
				wg.Done()
				return
			}
			wg.Done()
		}()
	}
	wg.Wait()
}

// Nested Add while the outer Add keeps the counter above zero.
func nested() {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		wg.Add(1)
		go func() { defer wg.Done() }()
	}()
	wg.Wait()
}

type plugin struct{}

// One Add for every plugin, then Wait in the loop that starts them: the first
// Wait waits for the goroutines not started yet.
func waitInLoop(plugins []*plugin) {
	var group sync.WaitGroup
	group.Add(len(plugins))
	for _, p := range plugins {
		go func(p *plugin) {
			defer group.Done()
		}(p)
		group.Wait() // want `group.Wait inside the loop that starts the goroutines`
	}
}

type manager struct{ wg sync.WaitGroup }

func (m *manager) waitInLoopField(n int) {
	m.wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			_ = work(i)
			m.wg.Done()
		}()
		if i > 0 {
			m.wg.Wait() // want `wg.Wait inside the loop that starts the goroutines`
		}
	}
}

// Negatives: Add once per iteration (Wait runs each goroutine to the end, one
// at a time), Wait after the loop, Add(1) for a single goroutine.
func waitEachIteration(plugins []*plugin) {
	var group sync.WaitGroup
	for _, p := range plugins {
		group.Add(1)
		go func(p *plugin) {
			defer group.Done()
		}(p)
		group.Wait()
	}
}

func waitAfterLoop(plugins []*plugin) {
	var group sync.WaitGroup
	group.Add(len(plugins))
	for _, p := range plugins {
		go func(p *plugin) {
			defer group.Done()
		}(p)
	}
	group.Wait()
}

func waitOtherGroup(plugins []*plugin) {
	var all, one sync.WaitGroup
	all.Add(len(plugins))
	for _, p := range plugins {
		one.Add(1)
		go func(p *plugin) {
			defer all.Done()
			defer one.Done()
		}(p)
		one.Wait()
	}
	all.Wait()
}
