"""Build-constraint parsing and the matrix question "does any configuration build this?"."""

from __future__ import annotations

from pathlib import Path

import pytest

from godiag.toolchain import constraints as bc

# A few real ports (GOOS, GOARCH, cgo supported), enough for every case below.
PORTS = (
    ("linux", "amd64", True),
    ("linux", "arm64", True),
    ("darwin", "arm64", True),
    ("windows", "amd64", True),
    ("freebsd", "amd64", True),
    ("js", "wasm", False),
)
M = bc.Matrix(PORTS, min_minor=21, cur_minor=26)
HERE = bc.Config("linux", "amd64", 26, True, "gc")


@pytest.mark.parametrize(
    ("text", "lost", "here_without_tags"),
    [
        ("go1.22 && !go1.23", False, True),  # a Go-version gate: this port, another release
        ("!go1.18", True, False),  # below the go line: no allowed release builds it
        ("go1.27", False, True),  # a newer release builds it
        ("linux && windows", True, False),
        ("linux && arm64", False, False),
        ("!linux && !darwin && !windows", False, False),  # freebsd, js
        ("integration", False, False),  # -tags integration builds it
        ("ignore", False, False),
        ("cgo && js && wasm", True, False),  # js/wasm has no cgo
        ("unix && !linux", False, False),
        ("gccgo", False, False),
        ("(linux || darwin) && !appengine", False, True),
    ],
)
def test_matrix(text: str, lost: bool, here_without_tags: bool) -> None:
    e = bc.parse_expr(text)
    assert (M.builds(e) is None) is lost
    assert (M.builds(e, HERE, tags=False) is not None) is here_without_tags


def test_header_and_name_constraints(tmp_path: Path) -> None:
    legacy = "// Copyright x\n\n// +build linux,amd64 darwin\n// +build !cgo\n\npackage x\n"
    e, line = bc.header_constraint(legacy)
    assert line == 3
    assert bc.to_text(e) == "((linux && amd64) || darwin) && !cgo"
    # //go:build wins; a constraint after the package clause is not one.
    e, line = bc.header_constraint("//go:build linux\n// +build darwin\n\npackage x\n")
    assert (bc.to_text(e), line) == ("linux", 1)
    assert bc.header_constraint("package x\n\n//go:build linux\n") == (("true",), None)
    assert bc.header_constraint("/* a\n//go:build linux\n*/\npackage x\n") == (("true",), None)
    assert bc.to_text(bc.name_constraint("x_linux_arm64_test.go")) == "linux && arm64"
    assert bc.to_text(bc.name_constraint("x_windows.go")) == "windows"
    assert bc.name_constraint("linux.go") == ("true",)  # no underscore: no constraint
    assert bc.name_constraint("x_macos.go") == ("true",)  # not a known GOOS
    p = tmp_path / "a_windows_test.go"
    p.write_text("//go:build linux\n\npackage a\n")
    e, line = bc.file_constraint(p)
    assert M.builds(e) is None and line == 1


def test_bad_constraint() -> None:
    with pytest.raises(bc.ConstraintError):
        bc.parse_expr("linux &&")
    with pytest.raises(bc.ConstraintError):
        bc.parse_expr("linux $ darwin")


def test_android_counts_as_linux() -> None:
    m = bc.Matrix((("android", "arm64", True),), 21, 26)
    assert m.builds(bc.parse_expr("linux && arm64")) is not None


def test_ports_of_other_implementations() -> None:
    """x/sys's z/OS files: not a gc port, but a real one (IBM's); never lost."""
    assert M.builds(bc.parse_expr("zos && s390x")) is not None
    assert M.builds(bc.parse_expr("zos && s390x && !gccgo")) is None


# Two darwin ports and ios: a claim about darwin must cover all three, never one of them.
APPLE = (*PORTS, ("darwin", "amd64", True), ("ios", "arm64", True))
MA = bc.Matrix(APPLE, min_minor=21, cur_minor=26)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("darwin", "darwin, ios"),  # ios sets the darwin tag (go/build's matchTag)
        ("!darwin", "every port but darwin, ios"),
        ("darwin && arm64", "darwin/arm64, ios"),  # this matrix has ios/arm64 only
        ("windows", "windows"),
        ("linux && arm64", "linux/arm64"),
        ("(darwin || ios) && !cgo", "darwin, ios with cgo off"),
        ("linux && cgo", "linux with cgo"),
        ("cgo", "every port but js with cgo"),  # js/wasm has no cgo
        ("gccgo && linux", "linux with gccgo"),
        ("integration", "every port with -tags integration"),
        ("a && b", "every port with -tags a,b"),
        ("linux && (e2e || slow)", "linux with -tags e2e or -tags slow"),
        ("darwin || integration", "darwin, ios (with -tags integration: every port)"),
        ("race && windows", "windows with -race"),
        (
            "zos && s390x",
            "zos/s390x (not a port of this toolchain: gccgo or another Go implementation)",
        ),
    ],
)
def test_where_comes_from_the_expression(text: str, where: str) -> None:
    assert MA.where(bc.parse_expr(text)).text() == where


def test_where_names_every_port_of_a_file_name_suffix(tmp_path: Path) -> None:
    p = tmp_path / "x_darwin_test.go"
    p.write_text("package x\n")
    assert MA.where(bc.file_constraint(p)[0]).text() == "darwin, ios"
    p = tmp_path / "y_windows.go"
    p.write_text("//go:build windows\n\npackage x\n")
    e, _ = bc.file_constraint(p)
    assert bc.to_text(e) == "windows"  # the suffix repeats the header: said once


@pytest.mark.parametrize(
    ("text", "ignored"),
    [
        ("ignore", True),
        ("ignore && darwin", True),
        ("linux && ignore", True),
        ("!ignore", False),
        ("darwin", False),
        ("ignore || linux", False),
    ],
)
def test_requires_ignore(text: str, ignored: bool) -> None:
    assert bc.requires(MA, bc.parse_expr(text), "ignore") is ignored
