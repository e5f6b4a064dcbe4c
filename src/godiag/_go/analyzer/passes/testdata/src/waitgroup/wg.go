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
