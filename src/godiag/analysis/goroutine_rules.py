"""Classification rules for goroutines: wait reason -> category, and what counts as user code.

Categories (docs/contracts.md): running, runnable, channel, select, lock, waitgroup, cond,
sleep, io, syscall, gc, idle, other. The table covers every string of the runtime's
waitReasonStrings (runtime2.go) plus the plain statuses and older spellings.

Before Go 1.24 mutex, RWMutex, WaitGroup and Cond waits all print as `semacquire`
(and debug=1 records print no state at all), so those are classified by their frames.
"""

from __future__ import annotations

from godiag.model.goroutine import Frame

CATEGORIES = (
    "running",
    "runnable",
    "channel",
    "select",
    "lock",
    "waitgroup",
    "cond",
    "sleep",
    "io",
    "syscall",
    "gc",
    "idle",
    "other",
)

# The categories of a goroutine parked on one of the program's own synchronisations: a
# channel, a select, a lock, a WaitGroup, a Cond. Leaks and deadlocks are made of these;
# io, sleep and syscall wait on the outside world or the clock and never count as blocked.
# The one table of them (dump suspects, diagnosis features and locations, group order),
# in priority order: of two groups of one size, the earlier category is listed first.
BLOCKED: tuple[str, ...] = ("channel", "select", "lock", "waitgroup", "cond")

_GC = (
    "GC assist marking",
    "GC assist wait",
    "GC sweep wait",
    "GC scavenge wait",
    "GC worker (idle)",
    "GC worker (active)",
    "GC mark termination",
    "GC weak to strong wait",
    "garbage collection",
    "garbage collection scan",
    "dumping heap",
    "finalizer wait",
    "cleanup wait",
    "force gc (idle)",
    "wait for GC cycle",
)

BY_REASON: dict[str, str] = {
    "running": "running",
    "runnable": "runnable",
    "preempted": "runnable",
    "copystack": "runnable",
    "chan send": "channel",
    "chan receive": "channel",
    "chan send (nil chan)": "channel",
    "chan receive (nil chan)": "channel",
    "chan send (durable)": "channel",
    "chan receive (durable)": "channel",
    "select": "select",
    "select (no cases)": "select",
    "select (durable)": "select",
    "sync.Mutex.Lock": "lock",
    "sync.RWMutex.RLock": "lock",
    "sync.RWMutex.Lock": "lock",
    "sync.WaitGroup.Wait": "waitgroup",
    "sync.WaitGroup.Wait (durable)": "waitgroup",
    "sync.Cond.Wait": "cond",
    "sleep": "sleep",
    "IO wait": "io",
    "syscall": "syscall",
    "idle": "idle",
    "timer goroutine (idle)": "idle",
    "GOMAXPROCS updater (idle)": "idle",
    "trace reader (blocked)": "other",
    "panicwait": "other",
    "debug call": "other",
    "stopping the world": "other",
    "flushing proc caches": "other",
    "trace goroutine status": "other",
    "trace proc status": "other",
    "page trace flush": "other",
    "coroutine": "other",
    "synctest.Run": "other",
    "synctest.Wait": "other",
    "waiting": "other",
    "semacquire": "lock",  # refined by frames (mutex, rwmutex, waitgroup, cond)
    "dead": "other",
    **dict.fromkeys(_GC, "gc"),
}

# Functions that identify what a `semacquire` (or state-less debug=1) goroutine waits on.
_BY_FRAME: tuple[tuple[str, str], ...] = (
    ("sync.(*WaitGroup).Wait", "waitgroup"),
    ("sync.(*Cond).Wait", "cond"),
    ("sync.runtime_notifyListWait", "cond"),
    ("sync.(*RWMutex).", "lock"),
    ("sync.(*Mutex).", "lock"),
    ("internal/sync.(*Mutex).", "lock"),
    ("sync.runtime_Semacquire", "lock"),
    ("time.Sleep", "sleep"),
    ("internal/poll.runtime_pollWait", "io"),
    ("syscall.", "syscall"),
    ("internal/runtime/syscall.", "syscall"),
    ("runtime.chanrecv", "channel"),
    ("runtime.chansend", "channel"),
    ("runtime.selectgo", "select"),
    ("runtime.block", "select"),
    ("runtime/pprof.writeGoroutineStacks", "running"),
    ("runtime/pprof.writeRuntimeProfile", "running"),
    ("runtime.Stack", "running"),
)

# States that say too little: before Go 1.24 every sync wait is `semacquire`; debug=1
# records have no state at all.
_BY_FRAME_STATES = frozenset({"", "semacquire", "semacquire (durable)", "waiting"})

# First elements of standard-library import paths (plus the names the runtime prints
# for its own frames). A frame is "user code" when its package is not one of these.
_STD_WORDS = (
    "archive bufio builtin bytes cmp compress container context crypto database debug "
    "embed encoding errors expvar flag fmt go hash html image index internal io iter log "
    "maps math mime net os path plugin reflect regexp runtime slices sort strconv strings "
    "structs sync syscall testing text time unicode unique unsafe vendor weak "
    "panic gopanic goexit"
)
STDLIB_ROOTS = frozenset(_STD_WORDS.split())


def category(state: str, frames: tuple[Frame, ...]) -> str:
    """The category of a goroutine from its printed state, falling back to its frames."""
    if state in _BY_FRAME_STATES:
        top = frames[:6]
        # rules in priority order: `sync.(*WaitGroup).Wait` sits below the generic
        # `sync.runtime_Semacquire` frame and must win over it
        for prefix, c in _BY_FRAME:
            for fr in top:
                if fr.function.startswith(prefix):
                    return c
        if state.startswith("semacquire") and frames:
            # no sync frame: a runtime-internal semaphore (a GC starting, the world being
            # stopped for ReadMemStats), whose waiters sit in allocations, not on a lock
            return "other"
    if state.startswith("data race"):
        return "other"
    return BY_REASON.get(state, "other")


def package_of(function: str) -> str:
    """Import path of a Go function name: `a.b/c/d.(*T).M` -> `a.b/c/d`."""
    slash = function.rfind("/")
    dot = function.find(".", slash + 1)
    return function if dot < 0 else function[:dot]


def is_stdlib(function: str) -> bool:
    """Standard library or runtime: the import path's first element is a std root.

    Third-party code always has a dot in its first path element (`github.com/...`),
    and `main` and module paths such as `example.com/x` are user code. A module whose
    path has no dot and starts like a std package (e.g. `net/foo` of module `net`)
    would be misread; Go itself reserves such paths for the standard library.
    """
    pkg = package_of(function)
    first = pkg.split("/", 1)[0]
    return first in STDLIB_ROOTS


def user_frame(frames: tuple[Frame, ...]) -> Frame | None:
    """The first frame (innermost first) outside the standard library and runtime."""
    for fr in frames:
        if fr.function != "?" and not is_stdlib(fr.function):
            return fr
    return None


# Goroutines every test binary has: the main goroutine of _testmain.go (running TestMain),
# tests still in the testing package's hands, signal delivery. Never a test's leak.
_HARNESS_PACKAGES = ("testing", "os/signal", "runtime")


def is_harness(frames: list[tuple[str, str]]) -> bool:
    """A test binary's own goroutine, from its frames' (function, file): `main.main` of
    _testmain.go in its stack, or only frames of the testing, os/signal and runtime packages."""
    if any(file.endswith("_testmain.go") for _, file in frames):
        return True
    return bool(frames) and all(package_of(fn) in _HARNESS_PACKAGES for fn, _ in frames)
