package goexittest

import (
	"os"
	"runtime"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		runtime.Goexit() // want `runtime.Goexit called in TestMain`
	}
	os.Exit(code)
}

func TestBackground(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.Goexit() // want `runtime.Goexit called in a goroutine of test TestBackground`
	}()
	<-done
}

func TestHelperOK(t *testing.T) {
	helper := func() { runtime.Goexit() } // a literal only called elsewhere: not flagged
	_ = helper
	t.Log("ok")
}
