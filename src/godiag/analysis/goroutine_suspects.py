"""Which goroutine groups are suspects: leaks and stuck work, not a daemon's lifecycle.

A long-running service parks most of its goroutines for its whole life: run groups,
signal handlers, accept loops, tickers, idle connections and worker pools wait in a
receive, a select, a WaitGroup or a Cond from start-up on. Their wait says only how long
the process has been up, so a long wait alone is never a suspect. What the dump can
still tell apart:

- proof: the runtime says so (`(leaked)`, `all goroutines are asleep`), or the wait is on
  a nil channel, which nothing can ever wake;
- stuck work: a goroutine that is *doing* something (acquiring a mutex, sending a value)
  and has waited for minutes: no lock is meant to be held that long and no sender is
  meant to wait that long for its receiver;
- accumulation: many goroutines parked at the same place, either senders piling up, or
  receivers that parked at different times over minutes (a leak adds one per request;
  a lifecycle pool is started once, and a busy pool is woken all the time);
- growth between two dumps (`--diff`): a blocked group that at least doubled;
- left behind by tests: in a dump taken after a test binary's tests ended (`godiag run
  --leaks` writes one, its first line says so), every goroutine still blocked, even one
  alone, is a suspect: nothing in the test is left to wake it (the harness's own are not).

Each rule is one entry of `RULES` (kind -> function of a group and the dump's context
that returns the reason, or None). The reason says why; the location is the group's
user frame, kept apart so that views do not repeat it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from godiag.analysis.goroutine_rules import BLOCKED, is_harness
from godiag.words import many

LEAK_MIN_COUNT = 10  # goroutines parked at one place before accumulation is suspected
SPREAD_MINUTES = 3  # receivers that parked this many minutes apart arrived one by one
STUCK_MINUTES = 10  # a mutex or a send that has waited this long is stuck work
GROWTH_MIN = 5  # with --diff: at least this many more, and at least twice the baseline

Group = dict[str, Any]


@dataclass(frozen=True)
class Context:
    """What the rules need to know about the whole dump."""

    deadlock: bool  # the runtime printed `all goroutines are asleep`
    diffing: bool
    after_tests: bool = False  # taken after a test binary's tests ended (run --leaks)


AFTER_TESTS = "godiag: goroutines left after the tests"


def _leaked(g: Group, ctx: Context) -> str | None:
    n = g["leaked"]
    return f"the runtime proved {n} of them can never wake up" if n else None


def _nil_channel(g: Group, ctx: Context) -> str | None:
    state = g["state"]
    if "(nil chan)" in state:
        return f"{g['count']} blocked forever on {state}: nothing can wake them"
    # One `select {}` is the idiom for parking a goroutine (often main) for good;
    # several at one place are work that blocks forever each time it runs.
    if state == "select (no cases)" and g["count"] > 1:
        return f"{g['count']} blocked forever on select with no cases"
    return None


def _deadlock(g: Group, ctx: Context) -> str | None:
    if ctx.deadlock and g["category"] in BLOCKED:
        return f"part of a deadlock: {g['count']} blocked on {g['state'] or g['category']}"
    return None


def _stuck(g: Group, ctx: Context) -> str | None:
    waited = g["wait_minutes"]["max"]
    if waited < STUCK_MINUTES:
        return None
    if g["category"] == "lock":
        return f"waiting {waited} minutes for a lock ({g['state']}): its holder does not let go"
    if g["state"] == "chan send":
        return f"waiting {waited} minutes to send on a channel that nobody receives from"
    return None


def _accumulating(g: Group, ctx: Context) -> str | None:
    n = g["count"]
    if n < LEAK_MIN_COUNT or g["category"] not in BLOCKED or g["category"] == "lock":
        return None  # a crowd at a mutex with no long wait is contention, not a leak
    origin = f" created at {g['created_by']['function']}" if g["created_by"] else ""
    if g["state"] == "chan send":
        return (
            f"{many(n, 'goroutine')}{origin} blocked sending on a channel: no receiver takes them"
        )
    w = g["wait_minutes"]
    if w["max"] - w["min"] >= SPREAD_MINUTES:
        return (
            f"{many(n, 'goroutine')}{origin} parked on {g['state'] or g['category']} one after "
            f"another over {w['min']}-{w['max']} minutes: they pile up"
        )
    return None


def _growth(g: Group, ctx: Context) -> str | None:
    if not ctx.diffing or g["category"] not in BLOCKED:
        return None
    before, grew = g.get("before", 0), g.get("growth", 0)
    if grew >= GROWTH_MIN and g["count"] >= 2 * before:
        return f"grew from {before} to {g['count']} blocked on {g['state'] or g['category']}"
    return None


def _left_by_tests(g: Group, ctx: Context) -> str | None:
    if not ctx.after_tests or g["category"] not in BLOCKED or g["leaked"]:
        return None  # proven leaks already have their own, stronger, suspect
    if is_harness([(f["function"], f["file"]) for f in g["frames"]]):
        return None
    n = g["count"]
    what = "goroutine is" if n == 1 else f"{n} goroutines are"
    return f"{what} still blocked on {g['state'] or g['category']} after the tests ended"


# kind -> rule, in the order the suspects of one group are listed
RULES: dict[str, Callable[[Group, Context], str | None]] = {
    "leaked": _leaked,
    "deadlock": _deadlock,
    "nil-channel": _nil_channel,
    "growth": _growth,
    "leak": _accumulating,
    "stuck": _stuck,
    "test-leak": _left_by_tests,
}


def suspects(groups: list[Group], header: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """Every (group, kind, reason) that some rule finds, groups in their order."""
    ctx = Context(
        deadlock=any("all goroutines are asleep" in h for h in header),
        diffing=any("growth" in g for g in groups),
        after_tests=any(h.startswith(AFTER_TESTS) for h in header),
    )
    out: list[dict[str, Any]] = []
    for i, g in enumerate(groups):
        for kind, rule in RULES.items():
            reason = rule(g, ctx)
            if reason is not None:
                out.append({"group": i, "kind": kind, "reason": reason})
    return out
