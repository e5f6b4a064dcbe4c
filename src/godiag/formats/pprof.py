"""pprof profiles: bytes (gzipped or raw protobuf, or Go's legacy text) -> model.Profile.

`decode(data, source)` is the one entry point other capabilities use (the goroutines
command reads proto goroutine profiles through it). Every malformed input becomes a
ParseError; formats we recognise but deliberately do not read (C++/Java legacy,
fuzzer corpus wrappers) become UnsupportedFormatError.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

from godiag.errors import DecompressBudgetError, ParseError
from godiag.limits import InFlight
from godiag.model.profile import Function, Line, Location, Mapping, Profile, Sample, ValueType

MAX_DECOMPRESSED = 1 << 30  # a gzip bomb stops here, not at the machine's memory limit
GZIP_MAGIC = b"\x1f\x8b"
_IN_STEP = 64 * 1024  # compressed bytes fed at a time (no big copies of the input)
_OUT_STEP = 1 << 20  # decompressed bytes produced at a time, each one counted


def gunzip(
    data: bytes, source: str, limit: int | None = None, pool: InFlight | None = None
) -> bytes:
    """Decompress gzip data, every member of it, streaming: the cap (`limit`, default
    MAX_DECOMPRESSED) holds for the sum of the members, not for the first one only, and
    the output grows by steps drawn from `pool` when given. Truncation is a ParseError,
    going over the cap or the pool a DecompressBudgetError."""
    cap = MAX_DECOMPRESSED if limit is None else limit
    out = io.BytesIO()
    view = memoryview(data)
    pos = 0
    taken = 0
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        while True:
            if d.eof:
                # Concatenated gzip members are legal; pprof's reader accepts them too.
                # Anything else after the end is ignored, as before.
                nxt = pos - len(d.unused_data)
                if data[nxt : nxt + 2] != GZIP_MAGIC:
                    break
                pos = nxt
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            if d.unconsumed_tail:
                chunk: bytes | memoryview = d.unconsumed_tail
            elif pos < len(data):
                chunk = view[pos : pos + _IN_STEP]
                pos += len(chunk)
            else:
                raise ParseError(source, "truncated gzip data")
            piece = d.decompress(chunk, _OUT_STEP)
            if not piece:
                continue
            if out.tell() + len(piece) > cap:
                raise DecompressBudgetError(
                    source, f"gzip data expands beyond {cap >> 20} MB (the capture budget)"
                )
            if pool is not None and not pool.take(len(piece)):
                raise DecompressBudgetError(
                    source,
                    f"gzip data cut at {out.tell() >> 20} MB: captures in flight hold the "
                    f"process's {pool.capacity >> 20} MB",
                    "memory",
                )
            taken += len(piece)
            out.write(piece)
    except zlib.error as exc:
        raise ParseError(source, f"corrupt gzip data: {exc}") from None
    finally:
        if pool is not None:
            pool.give(taken)
    return out.getvalue()


def decode(
    data: bytes, source: str, *, limit: int | None = None, pool: InFlight | None = None
) -> Profile:
    """Decode a profile in any format Go produces; `limit` and `pool` bound the
    decompressed size (see gunzip)."""
    if not data:
        raise ParseError(source, "empty profile")
    if data[:2] == GZIP_MAGIC:
        data = gunzip(data, source, limit, pool)
        if not data:
            raise ParseError(source, "empty profile (gzip of nothing)")
    from godiag.formats import pprof_legacy

    kind = pprof_legacy.sniff(data, source)
    if kind is not None:
        return pprof_legacy.parse(data, source, kind)
    return decode_proto(data, source)


def _message(data: bytes, source: str) -> Any:
    from google.protobuf.message import DecodeError

    from godiag.formats import profile_pb2

    msg = profile_pb2.Profile()
    try:
        msg.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        # Go writes label values and file names as they are: a pprof.Do label of a path
        # in Latin-1 is not UTF-8, which proto3 refuses and `go tool pprof` reads
        fixed = _utf8_strings(data) if "UTF-8" in str(exc) else None
        if fixed is None:
            raise ParseError(source, f"not a pprof protobuf profile ({exc})") from None
        try:
            msg.ParseFromString(fixed)
        except (DecodeError, RuntimeError, ValueError) as again:
            raise ParseError(source, f"not a pprof protobuf profile ({again})") from None
    return msg


STRING_TABLE = 6  # profile.proto: repeated string string_table = 6


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        b = data[i]
        value |= (b & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not b & 0x80:
            return value, i


def _utf8_strings(data: bytes) -> bytes | None:
    """`data` with every string-table entry made valid UTF-8 (bad bytes as U+FFFD), the
    rest copied as is; None when the top-level message cannot be walked."""
    out = bytearray()
    i = 0
    try:
        while i < len(data):
            start = i
            key, i = _varint(data, i)
            wire = key & 7
            if wire == 0:
                _, i = _varint(data, i)
            elif wire == 1:
                i += 8
            elif wire == 5:
                i += 4
            elif wire == 2:
                n, j = _varint(data, i)
                if j + n > len(data):
                    return None
                if key >> 3 == STRING_TABLE:
                    text = data[j : j + n].decode("utf-8", "replace").encode()
                    out += _entry(key, text)
                    i = j + n
                    continue
                i = j + n
            else:
                return None
            if i > len(data):
                return None
            out += data[start:i]
    except ValueError:
        return None
    return bytes(out)


def _entry(key: int, value: bytes) -> bytes:
    def varint(v: int) -> bytes:
        b = bytearray()
        while True:
            b.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
            v >>= 7
            if not v:
                return bytes(b)

    return varint(key) + varint(len(value)) + value


def decode_proto(data: bytes, source: str) -> Profile:
    msg = _message(data, source)
    strings: list[str] = list(msg.string_table)
    if not strings or strings[0] != "":
        raise ParseError(
            source, "not a pprof profile: string table must start with an empty string"
        )
    nstr = len(strings)

    def s(i: int, what: str) -> str:
        if i < 0 or i >= nstr:
            raise ParseError(source, f"{what}: string index {i} out of range (table has {nstr})")
        return strings[i]

    if not msg.sample_type:
        raise ParseError(source, "not a pprof profile: no sample types")
    sample_types = tuple(
        ValueType(s(v.type, "sample_type"), s(v.unit, "sample_type")) for v in msg.sample_type
    )
    mappings: dict[int, Mapping] = {}
    for m in msg.mapping:
        if m.id == 0 or m.id in mappings:
            raise ParseError(source, f"mapping id {m.id} is zero or repeated")
        mappings[m.id] = Mapping(
            m.id,
            m.memory_start,
            m.memory_limit,
            m.file_offset,
            s(m.filename, "mapping"),
            s(m.build_id, "mapping"),
            m.has_functions,
            m.has_filenames,
            m.has_line_numbers,
            m.has_inline_frames,
        )
    functions: dict[int, Function] = {}
    for f in msg.function:
        if f.id == 0 or f.id in functions:
            raise ParseError(source, f"function id {f.id} is zero or repeated")
        functions[f.id] = Function(
            f.id,
            s(f.name, "function"),
            s(f.system_name, "function"),
            s(f.filename, "function"),
            f.start_line,
        )
    locations: dict[int, Location] = {}
    for loc in msg.location:
        if loc.id == 0 or loc.id in locations:
            raise ParseError(source, f"location id {loc.id} is zero or repeated")
        mapping = None
        if loc.mapping_id:
            mapping = mappings.get(loc.mapping_id)
            if mapping is None:
                raise ParseError(source, f"location {loc.id}: unknown mapping id {loc.mapping_id}")
        lines = []
        for ln in loc.line:
            fn = None
            if ln.function_id:
                fn = functions.get(ln.function_id)
                if fn is None:
                    raise ParseError(
                        source, f"location {loc.id}: unknown function id {ln.function_id}"
                    )
            lines.append(Line(fn, ln.line, ln.column))
        locations[loc.id] = Location(loc.id, mapping, loc.address, tuple(lines), loc.is_folded)

    nvalues = len(sample_types)
    samples: list[Sample] = []
    getloc = locations.__getitem__
    for i, smp in enumerate(msg.sample):
        vals = tuple(smp.value)
        if len(vals) != nvalues:
            raise ParseError(
                source, f"sample {i} has {len(vals)} values for {nvalues} sample types"
            )
        try:
            locs = tuple(map(getloc, smp.location_id))
        except KeyError as exc:
            raise ParseError(source, f"sample {i}: unknown location id {exc.args[0]}") from None
        labels: tuple[tuple[str, str], ...] = ()
        nums: tuple[tuple[str, int, str], ...] = ()
        if smp.label:
            sl = []
            nl = []
            for lab in smp.label:
                key = s(lab.key, "label")
                if lab.str:
                    sl.append((key, s(lab.str, "label")))
                else:
                    nl.append((key, lab.num, s(lab.num_unit, "label")))
            labels, nums = tuple(sl), tuple(nl)
        samples.append(Sample(locs, vals, labels, nums))

    period_type = None
    if msg.HasField("period_type"):
        period_type = ValueType(
            s(msg.period_type.type, "period_type"), s(msg.period_type.unit, "period_type")
        )
    return Profile(
        sample_types=sample_types,
        samples=tuple(samples),
        mappings=tuple(mappings.values()),
        locations=tuple(locations.values()),
        functions=tuple(functions.values()),
        drop_frames=s(msg.drop_frames, "drop_frames"),
        keep_frames=s(msg.keep_frames, "keep_frames"),
        time_nanos=msg.time_nanos,
        duration_nanos=msg.duration_nanos,
        period_type=period_type,
        period=msg.period,
        comments=tuple(s(c, "comment") for c in msg.comment),
        default_sample_type=s(msg.default_sample_type, "default_sample_type"),
        source=source,
        format="proto",
    )
