package rangech

type pool struct {
	jobs    chan int
	results chan int
}

func newPool() *pool {
	return &pool{jobs: make(chan int), results: make(chan int)}
}

func (p *pool) worker() {
	for j := range p.jobs { // want `for range over channel jobs, which nothing in this package closes`
		p.results <- j
	}
}

func (p *pool) stop() { close(p.results) }

func (p *pool) drain() {
	for range p.results { // closed in stop: fine
	}
}

func local() {
	ch := make(chan int)
	go func() {
		for v := range ch { // want `for range over channel ch`
			_ = v
		}
	}()
	ch <- 1
}

func closed() {
	ch := make(chan int)
	go func() {
		defer close(ch)
		ch <- 1
	}()
	for range ch {
	}
}

// Handed to another function: it may close it.
func passed(produce func(chan<- int)) {
	ch := make(chan int)
	go produce(ch)
	for range ch {
	}
}

// Parameters belong to the caller.
func param(ch chan int) {
	for range ch {
	}
}

// Receive-only channels cannot be closed here anyway.
func recvOnly(ch <-chan int) {
	for range ch {
	}
}

// The loop leaves on its own after enough values.
func bounded(n int) {
	ch := make(chan int)
	go func() {
		for i := 0; ; i++ {
			ch <- i
		}
	}()
	for v := range ch {
		if v >= n {
			return
		}
	}
}

// stage counts values until its input is closed.
func stage(in <-chan string, done chan<- int) {
	n := 0
	for range in { // want `for range over channel lines, whose producer returns at line \d+ before its close\(lines\)`
		n++
	}
	done <- n
}

func produce(items []string) (int, error) {
	lines := make(chan string)
	done := make(chan int, 1)
	go stage(lines, done)
	for _, it := range items {
		if it == "" {
			return 0, errEmpty
		}
		lines <- it
	}
	close(lines)
	return <-done, nil
}

type emptyErr struct{}

func (emptyErr) Error() string { return "empty" }

var errEmpty error = emptyErr{}

// stage2 is the same stage, fed by producers that always close.
func stage2(in <-chan string, done chan<- int) {
	n := 0
	for range in {
		n++
	}
	done <- n
}

func produceDeferred(items []string) (int, error) {
	lines := make(chan string)
	done := make(chan int, 1)
	go stage2(lines, done)
	defer close(lines)
	for _, it := range items {
		if it == "" {
			return 0, errEmpty
		}
		lines <- it
	}
	return len(items), nil
}

func produceClosedFirst(items []string) (int, error) {
	lines := make(chan string)
	done := make(chan int, 1)
	go stage2(lines, done)
	for _, it := range items {
		if it == "" {
			break
		}
		lines <- it
	}
	close(lines)
	if len(items) == 0 {
		return 0, errEmpty // after the close: the stage ends
	}
	return <-done, nil
}
