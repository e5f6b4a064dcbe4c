"""The holder passes that decide from the shape of the dumps (holder.find's last two): a
lock waited for at a later Lock line of the same function, and a lock taken again through
another method of the same type, which must be there at both ends of the window."""

from __future__ import annotations

from godiag.analysis.rootcause import holder
from godiag.formats.goroutines import parse
from godiag.model.goroutine import Dump

SRC = "/src/app/store.go"


def _g(gid: int, state: str, frames: list[tuple[str, int]]) -> str:
    out = [f"goroutine {gid} [{state}]:"]
    for fn, line in frames:
        out += [f"{fn}(...)", f"\t{SRC}:{line} +0x1"]
    return "\n".join(out)


def _dump(*gs: str) -> Dump:
    return parse(("\n\n".join(gs) + "\n").encode(), "test")


LOCK = [("sync.runtime_SemacquireRWMutex", 0), ("sync.(*RWMutex).Lock", 0)]
RLOCK = [("sync.runtime_SemacquireRWMutexR", 0), ("sync.(*RWMutex).RLock", 0)]


def _upgrade(gid: int) -> str:
    # sweep holds the read lock and calls del, which takes the write lock
    return _g(gid, "sync.RWMutex.Lock",
              [*LOCK, ("main.(*store).del", 59), ("main.(*store).sweep", 107),
               ("main.janitor", 20)])  # fmt: skip


def _reader(gid: int) -> str:
    # a reader behind the pending writer, through another method of its own type
    return _g(gid, "sync.RWMutex.RLock",
              [*RLOCK, ("main.(*server).scan", 160), ("main.(*server).session", 40)])  # fmt: skip


def _getter(gid: int) -> str:
    return _g(gid, "sync.RWMutex.RLock",
              [*RLOCK, ("main.(*store).get", 30), ("main.handle", 12)])  # fmt: skip


def test_a_writer_under_its_own_types_method_holds_the_lock() -> None:
    start = _dump(_upgrade(7), _getter(79))
    end = _dump(_upgrade(7), _getter(79), _getter(80))
    h = holder.find(end, None, start)
    assert h is not None and h.reentrant and h.across
    assert holder.location(h) == {"function": "main.(*store).sweep", "file": SRC, "line": 107}
    ev = holder.evidence(h)
    assert "at both ends of the window" in ev[0] and "2 other goroutine(s)" in ev[0]
    # a lock that waits on its own holder never frees: deadlock's, not contention's
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import lock_contention
    from godiag.model.observation import Observation

    obs = Observation(url="http://x", dumps=[start, end])
    loc, _ = lock_contention.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.(*store).get"
    assert "would confirm" not in ev[1]


def test_a_waiter_not_there_at_the_start_is_not_stuck() -> None:
    # another goroutine (a new id) waiting there now: contention passing through, not a
    # goroutine waiting on itself for the whole window
    start = _dump(_upgrade(7), _getter(79))
    assert holder.find(_dump(_upgrade(8), _getter(79)), None, start) is None


def test_with_one_dump_it_is_said_unconfirmed() -> None:
    h = holder.find(_dump(_upgrade(7), _getter(79)))
    assert h is not None and h.reentrant and not h.across
    assert "would confirm" in holder.evidence(h)[1]


def test_a_writer_and_a_reader_under_their_own_types_decide_nothing() -> None:
    # an upgraded read lock (the writer waits on itself) and a read lock taken twice
    # behind a pending writer (the reader does) look alike in a dump: GoKer's
    # cockroach16167 is the second, with its pending writer under a method of its own type
    assert holder.find(_dump(_upgrade(7), _reader(45), _getter(79))) is None


def test_the_later_of_two_lock_lines_is_where_the_second_lock_is_taken() -> None:
    # most wait at the second Lock (holding the first), one at the first
    second = [_g(i, "sync.Mutex.Lock",
                 [("sync.runtime_SemacquireMutex", 0), ("sync.(*Mutex).Lock", 0),
                  ("main.(*api).share", 464), ("main.serve", 9)])
              for i in range(10, 18)]  # fmt: skip
    first = _g(30, "sync.Mutex.Lock",
               [("sync.runtime_SemacquireMutex", 0), ("sync.(*Mutex).Lock", 0),
                ("main.(*api).share", 458), ("main.serve", 9)])  # fmt: skip
    h = holder.find(_dump(*second, first))
    assert h is not None and h.nested
    assert holder.location(h)["line"] == 464
    assert h.holders == 8 and h.waiters == 1


def test_lock_waiters_behind_one_stuck_sender_of_their_package() -> None:
    # nobody is seen inside the waiters' lock; one goroutine of theirs is stuck on a send
    # across the window (it sends while it holds the shard lock; the receiver wants it)
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import deadlock
    from godiag.model.observation import Observation

    def waiters(first: int, n: int) -> list[str]:
        return [_g(i, "sync.Mutex.Lock",
                   [("sync.runtime_SemacquireMutex", 0), ("sync.(*Mutex).Lock", 0),
                    ("main.(*cache).get", 50), ("main.serve", 9)])
                for i in range(first, first + n)]  # fmt: skip

    sender = _g(3, "chan send", [("main.(*shard).expireNotify", 168), ("main.janitor", 133)])
    idle = _g(4, "chan receive", [("main.refresh", 40)])
    obs = Observation(url="http://x", dumps=[_dump(*waiters(10, 5), sender, idle),
                                             _dump(*waiters(10, 9), sender, idle)])  # fmt: skip
    loc, ev = deadlock.locator(obs, derive(obs))
    assert loc is not None and (loc["function"], loc["line"]) == ("main.(*shard).expireNotify", 168)
    assert "stuck on chan send" in ev[1]
    # two stuck senders: which one holds the lock is not decidable, the waiters are named
    other = _g(5, "chan send", [("main.(*log).flush", 77), ("main.logger", 70)])
    obs.dumps = [_dump(*waiters(10, 5), sender, other), _dump(*waiters(10, 9), sender, other)]
    loc, _ = deadlock.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.(*cache).get"


def test_locks_waited_for_minutes_in_two_functions_are_the_deadlock() -> None:
    """A log pipeline whose stages wait between items (no wait of a minute shown) beside
    two goroutines that took two locks in opposite orders, each waiting a minute: the
    stages are alive, the lock waiters are the deadlock."""
    from godiag.analysis.rootcause import longterm
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import deadlock
    from godiag.model.observation import Observation

    stages = [_g(20 + i, "chan receive", [("main.parse", 110), ("main.main", 157)])
              for i in range(3)]  # fmt: skip
    stages += [_g(30 + i, "chan receive", [("main.route", 121), ("main.main", 160)])
               for i in range(2)]  # fmt: skip
    mutex = [("sync.runtime_SemacquireMutex", 0), ("sync.(*Mutex).Lock", 0)]
    reload = _g(40, "sync.Mutex.Lock, 1 minutes", [*mutex, ("main.(*router).reload", 70)])
    report = _g(41, "sync.Mutex.Lock, 1 minutes", [*mutex, ("main.(*router).report", 92)])
    dumps = [_dump(*stages, reload, report) for _ in range(2)]
    obs = Observation(url="http://x", dumps=dumps)
    loc, ev = deadlock.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.(*router).reload" and loc["line"] == 70
    assert "main.(*router).report" in ev[0] and "opposite orders" in ev[0]
    # the dump's wait ages reach before the window: decisive, as a baseline's growth is
    ranked, why = longterm.adjust([("healthy", 0.5), ("deadlock", 0.3), ("memory-leak", 0.2)],
                                  longterm.gather(obs, derive(obs)))  # fmt: skip
    assert ranked[0] == ("deadlock", 0.75) and "0.30 -> 0.75" in why["deadlock"]
    # without the minute's wait, nothing says which goroutines are stuck: the largest group
    young = [_dump(*stages, reload.replace(", 1 minutes", ""), report.replace(", 1 minutes", ""))
             for _ in range(2)]  # fmt: skip
    obs = Observation(url="http://x", dumps=young)
    loc, _ = deadlock.locator(obs, derive(obs))
    assert loc is not None and loc["function"] != "main.(*router).reload"
    assert "deadlock" not in longterm.decisive(longterm.gather(obs, derive(obs)))


def test_waiters_behind_a_holder_blocked_for_minutes_are_the_deadlock() -> None:
    """Posters wait a minute for the ledger lock; one poster is past that Lock, waiting a
    minute for the journal lock, which a rotation (waiting for the ledger lock in another
    function) holds: a holder seen, so no inversion without one; the ages decide it, and
    the rotation is named. A holder in a network read, or waits under a minute, do not."""
    from godiag.analysis.rootcause import longterm
    from godiag.analysis.rootcause.derived import derive
    from godiag.model.observation import Observation

    mutex = [("sync.runtime_SemacquireMutex", 0), ("sync.(*Mutex).Lock", 0)]

    def dumps(age: str, holder_state: str, holder_frames: list[tuple[str, int]]) -> list[Dump]:
        posters = [_g(10 + i, f"sync.Mutex.Lock{age}",
                      [*mutex, ("main.(*Ledger).Post", 73), ("main.applier", 145)])
                   for i in range(3)]  # fmt: skip
        held = _g(20, holder_state + age, [*holder_frames, ("main.(*Ledger).Post", 77),
                                           ("main.applier", 145)])  # fmt: skip
        rotate = _g(23, f"sync.Mutex.Lock{age}", [*mutex, ("main.(*Ledger).Rotate", 95)])
        return [_dump(*posters, held, rotate) for _ in range(2)]

    def decided(ds: list[Dump]) -> str | None:
        obs = Observation(url="http://x", dumps=ds)
        return longterm.decisive(longterm.gather(obs, derive(obs))).get("deadlock")

    why = decided(dumps(", 1 minutes", "sync.Mutex.Lock", mutex))
    assert why is not None and "main.(*Ledger).Post (/src/app/store.go:77)" in why
    assert "main.(*Ledger).Rotate (/src/app/store.go:95)" in why
    # the same stacks seconds old: nothing says the lock is never released; the far side is
    # still named beside the holder, as a candidate
    young = dumps("", "sync.Mutex.Lock", mutex)
    assert decided(young) is None
    from godiag.analysis.rootcause.kinds import deadlock

    _, ev = deadlock.locator(Observation(url="http://x", dumps=young),
                             derive(Observation(url="http://x", dumps=young)))  # fmt: skip
    assert "also stuck on locks across the window: main.(*Ledger).Rotate" in ev[-1]
    # a holder reading from the network for minutes ends on its own (or is a slow
    # critical section): not decided here
    io = [("internal/poll.runtime_pollWait", 0), ("net.(*conn).Read", 0)]
    reading = dumps(", 1 minutes", "IO wait", io)
    h = derive(Observation(url="http://x", dumps=reading)).holder
    assert h is not None and h.category == "io" and h.wait_minutes == 1
    assert decided(reading) is None
    # nor one waiting inside a library's queue: a pool run dry holds the lock
    pool = [("runtime.selectgo", 0), ("database/sql.(*DB).conn", 1369)]
    waiting = dumps(", 1 minutes", "select", pool)
    h = derive(Observation(url="http://x", dumps=waiting)).holder
    assert h is not None and h.category == "select" and not h.own_wait
    assert decided(waiting) is None


def test_a_loop_between_ticks_is_not_a_stuck_actor_where_waits_are_aged() -> None:
    """Subscribers parked for minutes and one loop over time.Tick: the dump marks the
    subscribers' waits and not the loop's, so the loop ran within the minute; it is not
    the stuck goroutine of a channel cycle. In a dump with no aged wait the same loop
    cannot be told from a stuck actor, and the rule stays as it was."""
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import deadlock
    from godiag.model.observation import Observation

    def subs(state: str) -> list[str]:
        return [_g(50 + i, state, [("main.(*hub).subscribe", 31), ("main.serve", 12)])
                for i in range(6)]  # fmt: skip

    tick = _g(7, "chan receive", [("main.(*scheduler).loop", 88), ("main.main", 20)])
    aged = [_dump(*subs("chan receive, 4 minutes"), tick) for _ in range(2)]
    obs = Observation(url="http://x", dumps=aged)
    loc, ev = deadlock.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.(*hub).subscribe"
    assert not any("long-lived" in e for e in ev)
    young = [_dump(*subs("chan receive"), tick) for _ in range(2)]
    obs = Observation(url="http://x", dumps=young)
    loc, ev = deadlock.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.(*scheduler).loop"
    # an actor whose own wait is marked is still one
    stuck = tick.replace("[chan receive]", "[chan receive, 3 minutes]")
    obs = Observation(url="http://x", dumps=[_dump(*subs("chan receive, 4 minutes"), stuck)] * 2)
    loc, _ = deadlock.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.(*scheduler).loop"


def test_minute_long_waits_for_one_lock_are_not_called_an_inversion() -> None:
    """Status and adjust handlers wait minutes for the same mutex (the dump prints its
    address); the round holding it waits on a WaitGroup in another method, with the object
    in its arguments: one lock never released, not two taken in opposite orders, and the
    goroutines that may hold it are named."""
    from godiag.analysis.rootcause import longterm
    from godiag.analysis.rootcause.derived import derive
    from godiag.analysis.rootcause.kinds import deadlock
    from godiag.model.observation import Observation

    def waiter(gid: int, fn: str, line: int) -> str:
        return (f"goroutine {gid} [sync.Mutex.Lock, 2 minutes]:\n"
                "internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)\n\t/go/sema.go:95 +0x1\n"
                "internal/sync.(*Mutex).lockSlow(0xc000120000)\n\t/go/mutex.go:149 +0x1\n"
                f"sync.(*Mutex).Lock(...)\n\t/go/mutex.go:46\n"
                f"main.(*rec).{fn}(0xc000120000, {{0x1, 0x2}})\n\t{SRC}:{line} +0x1")  # fmt: skip

    round_ = ("goroutine 16 [sync.WaitGroup.Wait, 2 minutes]:\n"
              "sync.runtime_SemacquireWaitGroup(0x0?, 0x0?)\n\t/go/sema.go:114 +0x1\n"
              "sync.(*WaitGroup).Wait(0xc000200000)\n\t/go/waitgroup.go:206 +0x1\n"
              f"main.(*rec).round(0xc000120000, {{0x1, 0x2, 0x3}})\n\t{SRC}:116 +0x1")  # fmt: skip
    # idle workers of the same type: two places parked in its methods, so neither is
    # taken for the holder
    worker = f"main.(*rec).worker(0xc000120000)\n\t{SRC}:88 +0x1"
    workers = [f"goroutine {40 + i} [chan receive, 2 minutes]:\n{worker}" for i in range(4)]
    gs = [waiter(20 + i, "status", 132) for i in range(3)]
    gs += [waiter(30 + i, "adjust", 149) for i in range(2)]
    obs = Observation(url="http://x", dumps=[_dump(*gs, *workers, round_) for _ in range(2)])
    derived = derive(obs)
    found = longterm.inversion(derived)
    assert found is not None
    loc, ev = found
    # the one goroutine among them is the holder; the four twin workers are a pool idling
    assert loc is not None and loc["function"] == "main.(*rec).round" and loc["line"] == 116
    assert ev[0].startswith("likely holder: the one goroutine blocked on sync.WaitGroup.Wait")
    assert "all for the same lock (0xc000120000)" in ev[1] and "opposite orders" not in ev[1]
    assert "main.(*rec).round (/src/app/store.go:116)" in ev[2]
    assert "deadlock" in longterm.decisive(longterm.gather(obs, derived))
    # the same dumps before any wait reached a minute: the holder is read off the window
    young = [g.replace(", 2 minutes]", "]") for g in (*gs, *workers, round_)]
    obs = Observation(url="http://x", dumps=[_dump(*young) for _ in range(2)])
    loc, ev = deadlock.locator(obs, derive(obs))
    assert loc is not None and loc["function"] == "main.(*rec).round", ev
    # two lone goroutines with the object: nothing singles one out, the waiters stay
    other = ("goroutine 17 [chan send, 2 minutes]:\n"
             f"main.(*rec).flush(0xc000120000)\n\t{SRC}:170 +0x1")  # fmt: skip
    obs = Observation(url="http://x", dumps=[_dump(*gs, *workers, round_, other)] * 2)
    found = longterm.inversion(derive(obs))
    assert found is not None and found[0] is not None
    assert found[0]["function"] != "main.(*rec).round"
    assert not found[1][0].startswith("likely holder")
