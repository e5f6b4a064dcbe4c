package goexittest

import "runtime"

// Stop ends the calling goroutine on purpose; not a test.
func Stop() { runtime.Goexit() }

// TestLike is not in a _test.go file, so it is not a test.
func TestLike() { runtime.Goexit() }
