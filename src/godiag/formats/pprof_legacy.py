"""Go's legacy (pre-protobuf) text profiles, which the runtime still writes for debug=1.

Read: `heap profile:` (Go heap, values unsampled like pprof does), `--- mutex:` and
`--- contention:` (Go mutex/block), `goroutine profile: total N` and
`threadcreate profile: total N`. The `#\\t0xPC\\tfunc+0xOFF\\tfile:line` comment lines
Go prints after each record symbolize the addresses. Addresses on the `@` line are
return addresses, so each is moved back by one to land on the call, as pprof does.

Recognised but refused: C++/Java heapz/contentionz/threadz/growthz text, the binary
legacy CPU format, and `go test fuzz v1` corpus wrappers.
"""

from __future__ import annotations

import json
import math
import re

from godiag.errors import ParseError, UnsupportedFormatError
from godiag.model.profile import Function, Line, Location, Mapping, Profile, Sample, ValueType

MAX_FRAMES = 4096  # per record; Go writes at most 128

_HEAP_HEADER = re.compile(
    r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *([a-z_]+)/?(\d*)"
)
_HEAP_RECORD = re.compile(r"^ *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@([ x0-9a-fA-F]*)$")
_COUNT_RECORD = re.compile(r"^ *(\d+) *@([ x0-9a-fA-F]*)$")
_CONTENTION_RECORD = re.compile(r"^ *(\d+) +(\d+) *@([ x0-9a-fA-F]*)$")
_SYMBOL = re.compile(r"^#\t(0x[0-9a-fA-F]+)\t(.*?)(?:\+0x[0-9a-fA-F]+)?\t(.*):(\d+)$")
_KV = re.compile(r"^([a-z/ ]+?) *= *(\d+)$")


def sniff(data: bytes, source: str = "<input>") -> str | None:
    """Which legacy text kind this is, None for anything else (then: protobuf)."""
    head = data[:256].lstrip()
    if head.startswith(b"heap profile:"):
        line = head.split(b"\n", 1)[0]
        if b"@ heap/" in line or line.rstrip().endswith(b"@ heap"):
            return "heap"
        raise UnsupportedFormatError(
            source, "C++ legacy heap profile (heapz/growthz) is not supported; Go writes @ heap/N"
        )
    if head.startswith((b"--- mutex:", b"--- contention:")):
        return "contention"
    if head.startswith(b"goroutine profile: total"):
        return "goroutine"
    if head.startswith(b"threadcreate profile: total"):
        return "threadcreate"
    for marker, what in (
        (b"--- heapz", "C++/Java legacy heapz profile"),
        (b"--- contentionz", "C++/Java legacy contentionz profile"),
        (b"--- threadz", "C++ legacy threadz profile"),
        (b"--- heap", "legacy heap profile of another language"),
        (b"go test fuzz v1", "Go fuzzing corpus entry (go test fuzz v1), not a profile"),
    ):
        if head.startswith(marker):
            raise UnsupportedFormatError(source, f"{what} is not supported")
    if _is_legacy_cpu(data):
        raise UnsupportedFormatError(
            source, "legacy binary CPU profile (gperftools / Go before 1.9) is not supported"
        )
    return None


def _is_legacy_cpu(data: bytes) -> bool:
    # Header words: 0, 3, 0, period, 0 in 32- or 64-bit native words.
    for w in (8, 4):
        if len(data) >= 5 * w:
            words = [int.from_bytes(data[i * w : (i + 1) * w], "little") for i in range(2)]
            if words == [0, 3]:
                return True
    return False


def parse(data: bytes, source: str, kind: str) -> Profile:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(source, "legacy text profile is not UTF-8", offset=exc.start) from None
    return _Parser(source, kind).run(text.splitlines())


def _scale_heap(count: int, size: int, rate: int) -> tuple[int, int]:
    # pprof's unsampling of Go heap records: each sampled object stands for
    # 1/(1-exp(-avg/rate)) objects.
    if count == 0 or size == 0:
        return 0, 0
    if rate <= 1:
        return count, size
    avg = size / count
    scale = 1 / (1 - math.exp(-avg / rate))
    return int(count * scale), int(size * scale)


class _Parser:
    def __init__(self, source: str, kind: str) -> None:
        self.source = source
        self.kind = kind
        self.mapping = Mapping(1, 0, 0xFFFFFFFFFFFFFFFF, 0)
        self.symbols: dict[int, list[tuple[str, str, int]]] = {}
        self.functions: dict[tuple[str, str], Function] = {}
        self.records: list[tuple[list[int], tuple[int, ...], dict[str, str], int]] = []

    def fail(self, lineno: int, why: str) -> ParseError:
        return ParseError(self.source, why, line=lineno)

    def addrs(self, text: str, lineno: int) -> list[int]:
        parts = text.split()
        if len(parts) > MAX_FRAMES:
            raise self.fail(lineno, f"more than {MAX_FRAMES} frames in one record")
        try:
            return [int(p, 16) - 1 for p in parts]
        except ValueError:
            raise self.fail(lineno, "bad address on stack line") from None

    def run(self, lines: list[str]) -> Profile:
        header = lines[0].strip() if lines else ""
        period = 1
        cps = 0
        rate = 0
        sample_types: tuple[ValueType, ...]
        period_type: ValueType
        if self.kind == "heap":
            m = _HEAP_HEADER.match(header)
            if not m:
                raise self.fail(1, "bad heap profile header")
            # Go writes heap/(2*MemProfileRate).
            rate = int(m.group(6) or 0) // 2 if m.group(5) == "heap" else int(m.group(6) or 1)
            sample_types = (
                ValueType("alloc_objects", "count"),
                ValueType("alloc_space", "bytes"),
                ValueType("inuse_objects", "count"),
                ValueType("inuse_space", "bytes"),
            )
            period_type = ValueType("space", "bytes")
            period = rate
        elif self.kind == "contention":
            sample_types = (ValueType("contentions", "count"), ValueType("delay", "nanoseconds"))
            period_type = ValueType("contentions", "count")
        else:
            sample_types = (ValueType(self.kind, "count"),)
            period_type = ValueType(self.kind, "count")

        labels: dict[str, str] = {}
        for lineno, raw in enumerate(lines[1:], start=2):
            line = raw.rstrip()
            if not line.strip():
                continue
            if line.startswith("# runtime.MemStats") or line.startswith("# GC "):
                break  # Go's heap text appends MemStats; the records are over
            if line.startswith("#\t"):
                sm = _SYMBOL.match(line)
                if sm:
                    pc = int(sm.group(1), 16)
                    self.symbols.setdefault(pc, []).append((sm.group(2), sm.group(3), int(sm.group(4))))
                continue
            if line.startswith("# labels:"):
                try:
                    lab = json.loads(line[len("# labels:") :])
                except ValueError:
                    raise self.fail(lineno, "bad labels line") from None
                if not isinstance(lab, dict) or not self.records:
                    raise self.fail(lineno, "labels line outside a record")
                self.records[-1][2].update({str(k): str(v) for k, v in lab.items()})
                continue
            if line.startswith("#"):
                continue
            if self.kind == "contention" and "=" in line and "@" not in line:
                kv = _KV.match(line.strip())
                if kv is None:
                    raise self.fail(lineno, "bad header line")
                if kv.group(1) == "cycles/second":
                    cps = int(kv.group(2))
                elif kv.group(1) == "sampling period":
                    period = int(kv.group(2))
                continue
            self.record(line, lineno, rate, cps, period, labels)
        return self.build(sample_types, period_type, period)

    def record(
        self, line: str, lineno: int, rate: int, cps: int, period: int, labels: dict[str, str]
    ) -> None:
        if self.kind == "heap":
            m = _HEAP_RECORD.match(line)
            if not m:
                raise self.fail(lineno, "bad heap record")
            ic, isz, ac, asz = (int(m.group(i)) for i in range(1, 5))
            blocksize = isz // ic if ic else (asz // ac if ac else 0)
            ic, isz = _scale_heap(ic, isz, rate)
            ac, asz = _scale_heap(ac, asz, rate)
            self.records.append((self.addrs(m.group(5), lineno), (ac, asz, ic, isz), {}, blocksize))
        elif self.kind == "contention":
            m = _CONTENTION_RECORD.match(line)
            if not m:
                raise self.fail(lineno, "bad contention record")
            cycles, count = int(m.group(1)), int(m.group(2))
            delay = int(cycles * 1e9 / cps) if cps > 0 else cycles
            vals = (count * period, delay * period) if period > 1 else (count, delay)
            self.records.append((self.addrs(m.group(3), lineno), vals, {}, 0))
        else:
            m = _COUNT_RECORD.match(line)
            if not m:
                raise self.fail(lineno, f"bad {self.kind} record")
            self.records.append((self.addrs(m.group(2), lineno), (int(m.group(1)),), {}, 0))

    def location_lines(self, addr: int) -> tuple[Line, ...]:
        syms = self.symbols.get(addr) or self.symbols.get(addr + 1)
        if not syms:
            return ()
        out = []
        for name, file, lineno in syms:
            key = (name, file)
            fn = self.functions.get(key)
            if fn is None:
                fn = Function(len(self.functions) + 1, name, name, file)
                self.functions[key] = fn
            out.append(Line(fn, lineno))
        return tuple(out)

    def build(self, sample_types: tuple[ValueType, ...], period_type: ValueType, period: int) -> Profile:
        locs: dict[int, Location] = {}
        samples = []
        for addrs, vals, labels, blocksize in self.records:
            stack = []
            for a in addrs:
                loc = locs.get(a)
                if loc is None:
                    loc = Location(len(locs) + 1, self.mapping, a, self.location_lines(a))
                    locs[a] = loc
                stack.append(loc)
            nums = (("bytes", blocksize, ""),) if self.kind == "heap" else ()
            samples.append(Sample(tuple(stack), vals, tuple(sorted(labels.items())), nums))
        return Profile(
            sample_types=sample_types,
            samples=tuple(samples),
            mappings=(self.mapping,),
            locations=tuple(locs.values()),
            functions=tuple(self.functions.values()),
            period_type=period_type,
            period=period,
            source=self.source,
            format=f"legacy-{self.kind}",
        )
