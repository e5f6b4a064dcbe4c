package passes_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"godiag.dev/leakcheck/passes"
)

func TestGoexitMisuse(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.GoexitMisuse, "goexit", "goexittest")
}

func TestAbandonedSender(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.AbandonedSender, "sender")
}

func TestUnclosedRange(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.UnclosedRange, "rangech", "rangemain")
}

func TestLostCancelWatcher(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.LostCancelWatcher, "cancel", "cancelmain")
}

func TestWaitGroupMissingDone(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.WaitGroupMissingDone, "waitgroup")
}

func TestLockHeldBlocking(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.LockHeldBlocking, "lock")
}

func TestUnclosedResponseBody(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.UnclosedResponseBody, "body")
}

func TestTransportPerRequest(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.TransportPerRequest, "transport")
}

func TestTimerLeak(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.TimerLeak, "timer", "timer123")
}

func TestLockNotReleased(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.LockNotReleased, "lockleak")
}

func TestDoubleLock(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.DoubleLock, "doublelock")
}

func TestReceiveNeverSent(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.ReceiveNeverSent, "orphanrecv")
}

func TestSendNeverReceived(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.SendNeverReceived, "orphansend")
}

func TestLockOrder(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.LockOrder, "lockorder")
}

func TestCondNeverSignalled(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), passes.CondNeverSignalled, "condwait")
}
