"""model.Profile -> gzipped pprof protobuf that `go tool pprof` opens unchanged."""

from __future__ import annotations

import gzip

from godiag.model.profile import Profile


def encode(profile: Profile, *, compress: bool = True) -> bytes:
    from godiag.formats import profile_pb2

    strings: dict[str, int] = {"": 0}

    def s(text: str) -> int:
        i = strings.get(text)
        if i is None:
            i = strings[text] = len(strings)
        return i

    msg = profile_pb2.Profile()
    for st in profile.sample_types:
        msg.sample_type.add(type=s(st.type), unit=s(st.unit))
    for m in profile.mappings:
        msg.mapping.add(
            id=m.id,
            memory_start=m.memory_start,
            memory_limit=m.memory_limit,
            file_offset=m.file_offset,
            filename=s(m.filename),
            build_id=s(m.build_id),
            has_functions=m.has_functions,
            has_filenames=m.has_filenames,
            has_line_numbers=m.has_line_numbers,
            has_inline_frames=m.has_inline_frames,
        )
    for f in profile.functions:
        msg.function.add(
            id=f.id,
            name=s(f.name),
            system_name=s(f.system_name),
            filename=s(f.filename),
            start_line=f.start_line,
        )
    for loc in profile.locations:
        pl = msg.location.add(
            id=loc.id,
            mapping_id=loc.mapping.id if loc.mapping else 0,
            address=loc.address,
            is_folded=loc.is_folded,
        )
        for ln in loc.lines:
            pl.line.add(
                function_id=ln.function.id if ln.function else 0, line=ln.line, column=ln.column
            )
    for smp in profile.samples:
        ps = msg.sample.add(location_id=[loc.id for loc in smp.locations], value=smp.values)
        for k, v in smp.labels:
            ps.label.add(key=s(k), str=s(v))
        for k, n, unit in smp.num_labels:
            ps.label.add(key=s(k), num=n, num_unit=s(unit))
    msg.drop_frames = s(profile.drop_frames)
    msg.keep_frames = s(profile.keep_frames)
    msg.time_nanos = profile.time_nanos
    msg.duration_nanos = profile.duration_nanos
    if profile.period_type is not None:
        msg.period_type.type = s(profile.period_type.type)
        msg.period_type.unit = s(profile.period_type.unit)
    msg.period = profile.period
    msg.comment.extend(s(c) for c in profile.comments)
    msg.default_sample_type = s(profile.default_sample_type)
    msg.string_table.extend(strings)  # dicts keep insertion order: index i is entry i
    raw: bytes = msg.SerializeToString()
    return gzip.compress(raw, compresslevel=6, mtime=0) if compress else raw
