"""leakcheck's catalog: the stable id of each analyzer, its severity, title and fix.

Data only, so that the report views (SARIF rules) and the analyze document read it
without importing the code that builds and runs the analyzer (toolchain/analyzer.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from godiag.model.findings import Severity


@dataclass(frozen=True)
class Rule:
    severity: Severity
    title: str
    fix: str


# Stable ids (analyzer names with '-' for '_') and how each finding reads.
CATALOG: dict[str, Rule] = {
    "goexit-misuse": Rule(
        Severity.ERROR,
        "runtime.Goexit ends the wrong goroutine",
        "Return (or os.Exit) from main/init/TestMain; in tests use t.FailNow on the test "
        "goroutine.",
    ),
    "abandoned-sender": Rule(
        Severity.WARNING,
        "goroutine can block forever sending to a receiver that gave up",
        "Give the channel a buffer of 1 (make(chan T, 1)) or make the sender select on ctx.Done().",
    ),
    "unclosed-range": Rule(
        Severity.WARNING,
        "for range over a channel that is never closed",
        "close() the channel once the last value is sent (by its only sender).",
    ),
    "lost-cancel-watcher": Rule(
        Severity.WARNING,
        "goroutine waits on a context nobody cancels",
        "Keep the cancel function and call it (defer cancel()) when the work ends.",
    ),
    "waitgroup-missing-done": Rule(
        Severity.WARNING,
        "WaitGroup counter can stay above zero (or race with Wait)",
        "Call wg.Add before the go statement and defer wg.Done() first thing in the goroutine.",
    ),
    "lock-held-blocking": Rule(
        Severity.WARNING,
        "mutex held across a blocking operation",
        "Release the lock before blocking; copy what you need while holding it.",
    ),
    "lock-not-released": Rule(
        Severity.WARNING,
        "mutex left locked on an early return, continue or break",
        "Unlock on every path out (or defer mu.Unlock() right after mu.Lock()).",
    ),
    "double-lock": Rule(
        Severity.WARNING,
        "mutex locked again by the goroutine that holds it",
        "Unlock before locking again, or drop the second lock (sync mutexes are not reentrant).",
    ),
    "lock-order-inversion": Rule(
        Severity.WARNING,
        "two mutexes locked in opposite orders (AB-BA deadlock)",
        "Take the two locks in one order everywhere, or release the first before taking the "
        "second.",
    ),
    "receive-never-sent": Rule(
        Severity.WARNING,
        "receive from a channel nothing sends on or closes",
        "Close the channel when the work ends (defer close(ch) in its owner), or select on a "
        "context as well.",
    ),
    "send-never-received": Rule(
        Severity.WARNING,
        "send on an unbuffered channel nothing receives from",
        "Receive from it where the result is wanted, give it a buffer, or drop the send.",
    ),
    "cond-never-signalled": Rule(
        Severity.WARNING,
        "sync.Cond waited on but never signalled",
        "Call Signal or Broadcast where the condition changes (or use a channel instead).",
    ),
    "unclosed-response-body": Rule(
        Severity.WARNING,
        "http.Response.Body not closed on every path",
        "defer resp.Body.Close() immediately after the error check of the request.",
    ),
    "transport-per-request": Rule(
        Severity.WARNING,
        "http.Transport built per request",
        "Create one http.Client/Transport at start-up and reuse it for every request.",
    ),
    "timer-leak": Rule(
        Severity.WARNING,
        "ticker never stopped in a function that returns",
        "Use t := time.NewTicker(d) with defer t.Stop() instead of time.Tick.",
    ),
}
