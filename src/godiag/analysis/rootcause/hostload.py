"""Whether a diagnosis can trust a local service's CPU and GC rates.

The ranker reads CPU use and GC rates as the service's own. On a machine whose CPUs are
all busy, mostly with other processes, a CPU-bound service gets what the scheduler leaves
it and reads as idle: "healthy" would be a confident guess, not a finding. A starved
service also falls behind: requests pile up as goroutines and lock holders wait for a CPU,
which reads as a goroutine leak or lock contention. Kinds that rest on those rates and waits
are then reported as not sure, with the measurement (each kind's `timing`, kinds/); kinds
that rest on what accumulates or never moves (memory-leak, connection-leak, deadlock),
which starvation does not create, keep their verdict with the same note.
"""

from __future__ import annotations

from godiag.analysis.rootcause.kinds import KINDS, lock_contention
from godiag.model.observation import Observation

SATURATED = 0.9  # share of the machine's CPUs busy over the window
OTHERS = 0.5  # share of that busy time spent outside the service
TIMING_KINDS = frozenset(k.id for k in KINDS.values() if k.timing)


def starved(busy_cpus: float | None, cpus: int, service_cpus: float | None) -> str | None:
    """Why the service's CPU figures are not its own, or None when they are (or unknown)."""
    if busy_cpus is None or cpus <= 0 or busy_cpus < SATURATED * cpus:
        return None
    mine = service_cpus or 0.0
    if mine >= (1 - OTHERS) * busy_cpus:
        return None  # the service itself keeps the machine busy: that is evidence, not noise
    used = ("the service's own share is unknown (no CPU measure)" if service_cpus is None
            else f"the service used {mine:.2f} of them")  # fmt: skip
    return (
        f"this machine's {cpus} CPUs were {busy_cpus / cpus:.0%} busy during the window, "
        f"{used}: its CPU and GC rates are what other work "
        f"left it and its goroutines and locks wait for a CPU, so rates and waits are not "
        f"its own; "
        f"diagnose again when the machine is less busy"
    )


# what a lock's holder can be seen waiting on that a busy machine does not make: a starved
# holder waits for a CPU (running, runnable), not in a syscall, I/O or a sleep
NOT_CPU_WAITS = ("io", "syscall", "sleep")


def undecidable(kind: str, obs: Observation | None = None, prefix: str | None = None) -> bool:
    """Whether `kind` rests on rates and waits a busy machine makes. Lock contention whose
    holder a dump of the window shows blocked in a syscall, I/O or a sleep (an fsync under
    the lock) does not: starvation does not put the holder there."""
    held = lock_contention.holders(obs, prefix) if obs is not None else iter(())
    if kind == "lock-contention" and any(h.category in NOT_CPU_WAITS for h in held):
        return False
    return kind in TIMING_KINDS
