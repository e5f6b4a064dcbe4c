"""What a fault kind is to the diagnosis: one record per kind, in its own module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from godiag.analysis.rootcause.locate import Locator

Features = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    """A fault kind (or `healthy`) and everything the diagnosis does differently for it.

    The model's classes are the kinds' ids (model.json is trained on the scenario labels);
    the rest is read by the ranker, the locators, the document and the checks after them.
    """

    id: str
    # The cause's one-line title: (features, " in FUNCTION" of its location, or "") -> text.
    title: Callable[[Features, str], str]
    # Where it points in the code (None: it points nowhere, as healthy).
    locate: Locator | None = None
    # True when the kind's own evidence was looked for and is absent: it is not ranked
    # (ranker.ruled_out). Absence counts only where it was observed.
    ruled_out: Callable[[Features], bool] | None = None
    # Its verdict rests on CPU/GC rates and waits, which a machine saturated by other work
    # distorts: reported as not sure then (hostload).
    timing: bool = False
    # Ids of the static analyzers whose findings explain it (corroborate, with --source).
    explained_by: frozenset[str] = frozenset()
    # Prometheus's go_goroutines history over the last minutes is evidence for it.
    goroutine_history: bool = False
    # The kind ranks first but its own evidence is absent: why, and what would decide
    # (None: supported). The verdict is then "not sure" - the model learned the kind from
    # services where that evidence was present, so without it the ranking is a guess.
    unsupported: Callable[[Features], str | None] | None = None
    # The kind ranks first with its own evidence there, but that evidence also comes from a
    # service doing its normal work: why, and what would decide (None: it does not). The
    # ranking stands; the verdict is "not sure".
    doubt: Callable[[Features], str | None] | None = None
    # Evidence lines from the features alone, after the locator's: the figures the kind
    # rests on (healthy: what was measured and found quiet; gc-pressure: the collector's
    # rate and cost).
    measured: Callable[[Features, float], list[str]] | None = None


def would_decide(
    feats: Features, history: str, *, span: float | None = None, runtime: str = ""
) -> str:
    """What reaches past the window's seconds and would decide an accumulating kind, from
    what this diagnosis did not already have: a stored baseline it was compared with is
    named as the reference a later diagnosis is compared with (not advised as if absent: a
    reference 25 s old had "a stored baseline would decide" beside it), and a Prometheus
    history it read as more of that history. `history`: the series, as "go_goroutines
    history"; `span`: the seconds of it that decide, when the kind needs that many;
    `runtime`: a last resort beyond both (the goroutineleak profile)."""
    from godiag.analysis.rootcause.longterm.common import _ago, against_reference

    parts = ["a longer --window"]
    age = feats.get("baseline_age_minutes")
    if age is None:
        parts.append("a stored baseline")
    else:
        parts.append(against_reference(age * 60))
    minutes = feats.get("history_minutes")
    needed = f"{_ago(span)} of {history}" if span else history
    if minutes is None:
        parts.append(f"{needed} in a configured Prometheus")
    else:
        more = needed if span else f"a longer {history}"
        parts.append(f"{more} (Prometheus has {_ago(minutes * 60)} of it)")
    if runtime:
        parts.append(runtime)
    return ", ".join(parts[:-1]) + " or " + parts[-1] + " would decide"


# The title of a cause whose kind's own evidence is absent (`Kind.unsupported`) opens with
# this: the diagnosis writes it, the text view marks the cause's row by it.
UNCONFIRMED = "unconfirmed: "


def unconfirmed(cause: dict[str, Any]) -> bool:
    """A cause of a diagnosis document without evidence of its own kind: ranked after the
    others for lack of it (`set_aside`), or titled so."""
    return bool(cause.get("set_aside")) or str(cause.get("title", "")).startswith(UNCONFIRMED)


# The head of an evidence line saying the location is a best guess among several (the
# busiest of some clients): the kind may stand, the place is not to be acted on.
PLACE_UNSURE = "not sure of the place: "


def place_unsure(cause: dict[str, Any]) -> bool:
    return any(str(e).startswith(PLACE_UNSURE) for e in cause.get("evidence") or ())


# Of the CPU or the allocation a kind names, the share spent under request handlers at or
# above which one profile cannot tell the kind from the load (`Kind.doubt`). Not a fine
# split: a loop of the service's own runs in a goroutine it started (none of it under a
# handler), a request path under one (all of it).
SERVED_SHARE = 0.5


def served(what: str, profile: str) -> str:
    """The doubt of a kind whose evidence is work done while serving requests: `what` says
    how much of it was, `profile` the `godiag profile --type` that compares it."""
    article = "an" if profile[:1] in "aeiou" else "a"
    return (f"{what} while serving requests (or in goroutines that came and went within the "
            f"window, each started for a piece of work): a path that does too much and a load "
            f"that asks for much look the same in one profile; {article} {profile} profile "
            f"under the "
            f"usual load (`godiag profile URL --type {profile} --format pprof -o "
            f"usual.pb.gz`) against one now (`godiag profile URL --type {profile} "
            f"--diff-base usual.pb.gz`) would decide")  # fmt: skip


def change_in(per_min: float | None, window_s: float) -> str:
    """The text " (+79 in 30 s)": a count's change over the window, not a rate per minute (two
    goroutines more after 5 s is requests in flight; "+24/min" reads as a trend nobody saw)."""
    return "" if per_min is None else f" ({per_min * window_s / 60:+.0f} in {window_s:.0f} s)"


def measured_line(parts: list[str]) -> list[str]:
    """A kind's `measured` evidence: its figures in one line, or none when none was measured."""
    return [f"measured over the window: {', '.join(parts)}"] if parts else []
