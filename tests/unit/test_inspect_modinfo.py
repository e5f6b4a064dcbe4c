"""Module-info text, Go string literals and go.mod lines, as Go reads them."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.errors import ParseError
from godiag.formats.buildinfo import parse_modinfo
from godiag.formats.gomod import parse_gomod
from godiag.formats.goquote import quoted_prefix, unquote
from godiag.model.binary import Module

# Lines as cmd/go writes them (quoting per runtime/debug.BuildInfo.String).
REAL = (
    b"path\texample.com/app/cmd/app\n"
    b"mod\texample.com/app\t(devel)\t\n"
    b"dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n"
    b"dep\texample.com/greet\tv0.0.0\n"
    b"=>\t./greet\t\t\n"
    b"build\t-buildmode=exe\n"
    b'build\t-ldflags="-s -w -X main.v=1"\n'
    b"build\tCGO_ENABLED=1\n"
    b'build\tCGO_CFLAGS="-O2 -g"\n'
    b"build\tDefaultGODEBUG=httpmuxgo121=0,panicnil=1\n"
    b"build\tvcs.modified=false\n"
    b'build\t"we\\tird key"=`raw value`\n'
    b"build\tempty=\n"
)


def test_real_lines() -> None:
    bi = parse_modinfo(REAL, "t")
    assert bi.path == "example.com/app/cmd/app"
    assert bi.main == Module("example.com/app", "(devel)", "")
    assert bi.deps[0] == Module("golang.org/x/sys", "v0.1.0", "h1:abc=")
    assert bi.deps[1].replace == Module("./greet", "", "")
    assert bi.setting("-ldflags") == "-s -w -X main.v=1"
    assert bi.setting("CGO_CFLAGS") == "-O2 -g"
    assert bi.setting("we\tird key") == "raw value"
    assert bi.setting("empty") == ""
    js = bi.to_go_json()
    assert js["Main"] == {"Path": "example.com/app", "Version": "(devel)"}
    assert js["Deps"][1] == {
        "Path": "example.com/greet",
        "Version": "v0.0.0",
        "Replace": {"Path": "./greet"},
    }
    assert {"Key": "empty"} in js["Settings"]


def test_last_line_without_newline_is_ignored_like_go() -> None:
    assert parse_modinfo(b"path\ta\nmod\tb\tv1", "t").main == Module()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (b"mod\ta\n", "2 or 3 columns"),
        (b"dep\ta\tb\tc\td\n", "2 or 3 columns"),
        (b"=>\ta\tb\tc\n", "no module on previous line"),
        (b"dep\ta\tv1\n=>\ta\tb\n", "3 columns"),
        (b"build\t\n", "missing '='"),
        (b"build\t=x\n", "missing key"),
        (b"build\tkey\n", "missing '=' after key"),
        (b"build\tk y=v\n", "must be quoted"),
        (b"build\tk=v w\n", "must be quoted"),
        (b'build\tk="unterminated\n', "invalid quoted value"),
        (b'build\t"k"x\n', "unexpected character"),
        (b'build\t"k\n', "invalid quoted key"),
    ],
)
def test_errors_name_the_line(text: bytes, why: str) -> None:
    with pytest.raises(ParseError, match=why) as exc:
        parse_modinfo(b"path\tp\n" + text, "bin")
    bad_line = text.count(b"\n") + 1  # the last line of `text`, after the path line
    assert f"line {bad_line}:" in str(exc.value) and str(exc.value).startswith("bin")


@pytest.mark.parametrize(
    ("lit", "want"),
    [
        (b'"a\\tb"', b"a\tb"),
        (b'"\\x41\\101\\u00e9\\U0001F600"', "AAé😀".encode()),
        (b'"\\""', b'"'),
        (b"`a\r\\n`", b"a\\n"),
        (b'"\\xff"', b"\xff"),
    ],
)
def test_unquote_like_strconv(lit: bytes, want: bytes) -> None:
    assert unquote(lit) == want


@pytest.mark.parametrize(
    "lit", [b'"\\q"', b'"\\400"', b'"\\ud800"', b'"a\nb"', b"'a'", b'"\\\'"', b'"x" ', b'"\\x4"']
)
def test_unquote_rejects_what_strconv_rejects(lit: bytes) -> None:
    assert unquote(lit) is None


def test_quoted_prefix_reports_length() -> None:
    assert quoted_prefix(b'"a b"=c') == (b"a b", 5)


@given(st.binary(max_size=300))
def test_fuzz_modinfo_random(data: bytes) -> None:
    with contextlib.suppress(ParseError):  # a ParseError is an allowed outcome
        parse_modinfo(data, "fuzz")


@given(st.data())
def test_fuzz_modinfo_mutated_real(data: st.DataObject) -> None:
    buf = bytearray(REAL)
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(buf) - 1))
        buf[pos] = data.draw(st.sampled_from(b'\t\n="`\\ ax\xff'))
    try:
        bi = parse_modinfo(bytes(buf), "fuzz")
    except ParseError:
        return
    bi.to_go_json()


def test_gomod() -> None:
    mod = parse_gomod(
        "// c\nmodule example.com/m // comment\n\ngo 1.22\ntoolchain go1.23.1\n"
        'require (\n\tgolang.org/x/sys v0.1.0 // indirect\n\t"example.com/q" v1.2.3\n)\n'
        "require example.com/one v0.0.1\nreplace example.com/q v1.2.3 => ../q\n",
        "go.mod",
    )
    assert (mod.module, mod.go, mod.toolchain) == ("example.com/m", "1.22", "go1.23.1")
    assert mod.require == {
        "golang.org/x/sys": "v0.1.0",
        "example.com/q": "v1.2.3",
        "example.com/one": "v0.0.1",
    }
    assert mod.replace == {"example.com/q@v1.2.3": ("../q", "")}
    with pytest.raises(ParseError, match="no module line"):
        parse_gomod("go 1.22\n", "go.mod")
    with pytest.raises(ParseError, match="unterminated"):
        parse_gomod("module m\nrequire (\n a v1\n", "go.mod")
