"""Files and packages checks on real modules, with the machine's go and older/newer ones."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.doctor.modules import (
    TOOLCHAINS,
    doctor_env,
    evidence_text,
    go,
    ids,
    module,
    of,
    run_doctor,
    toolchain_bin,
    write,
)

pytestmark = pytest.mark.integration

LIB = {
    "lib.go": "package app\n\nfunc Add(a, b int) int { return a + b }\n",
    "lib_test.go": 'package app\n\nimport "testing"\n\nfunc TestAdd(t *testing.T) {\n'
    "\tif Add(1, 2) != 3 {\n\t\tt.Fatal()\n\t}\n}\n",
}
FAILING_TEST = (
    'package integ\n\nimport "testing"\n\nfunc TestFails(t *testing.T) { t.Fatal("x") }\n'
)


def envs() -> list[pytest.param]:
    """The machine's go, plus the older and newer toolchains when `make install` cached them."""
    out = [pytest.param(None, id="local")]
    for label, version in TOOLCHAINS.items():
        b = toolchain_bin(version)
        out.append(
            pytest.param(
                str(b) if b else None,
                id=label,
                marks=[]
                if b
                else pytest.mark.skip(reason=f"{version} not in the module cache (make install)"),
            )
        )
    return out


def env_for(bindir: str | None, **over: str) -> dict[str, str]:
    if bindir is None:
        return doctor_env(**over)
    return doctor_env(PATH=f"{bindir}:{os.environ['PATH']}", **over)


@pytest.mark.parametrize("bindir", envs())
def test_skipped_integration_dir(tmp_path: Path, bindir: str | None) -> None:
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "_integration/integ_test.go": FAILING_TEST,
            "testdata/fixture.go": "package fixture\n",
        },
    )
    env = env_for(bindir)
    out = go(d, "test", "./...", env=env)  # passes: the failing test never runs
    assert "ok" in out
    doc = run_doctor(d, env)
    f = of(doc, "skipped-test-dirs")
    assert len(f) == 1 and f[0]["severity"] == "warning"
    assert f[0]["location"]["file"] == "_integration/integ_test.go"
    clean = module(tmp_path / "clean", LIB)
    assert ids(run_doctor(clean, env), "warning") == set()


def test_nested_module_and_symlink(tmp_path: Path) -> None:
    d = module(tmp_path / "app", LIB)
    module(
        d / "tools", {"t_test.go": FAILING_TEST.replace("integ", "tools")}, path="example.com/tools"
    )
    other = module(
        tmp_path / "shared",
        {"s.go": "package shared\n", "s_test.go": FAILING_TEST.replace("integ", "shared")},
        path="x",
    )
    (other / "go.mod").unlink()
    os.symlink(other, d / "linked")
    # Code without tests in a hidden directory (a generator, examples) is context only.
    write(d, {"_gen/gen.go": "package main\n\nfunc main() {}\n"})
    doc = run_doctor(d, doctor_env())
    by_file = {f["location"]["file"]: f["severity"] for f in of(doc, "skipped-test-dirs")}
    assert by_file == {
        "tools/t_test.go": "info",
        "linked/s_test.go": "warning",
        "_gen/gen.go": "info",
    }


def test_testdata_is_never_reported(tmp_path: Path) -> None:
    """testdata/ holds fixtures by convention, _test.go files included (x/tools' analyzers)."""
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "testdata/src/a/a.go": "package a\n",
            "testdata/src/a/a_test.go": FAILING_TEST.replace("integ", "a"),
            "sub/testdata/golden_test.go": FAILING_TEST,
        },
    )
    doc = run_doctor(d, doctor_env())
    assert not of(doc, "skipped-test-dirs")
    assert ids(doc, "warning") == set()


@pytest.mark.parametrize("bindir", envs())
def test_constraint_excluded(tmp_path: Path, bindir: str | None) -> None:
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "arm/impl_linux_arm64.go": "package arm\n\nfunc F() {}\n",
            "lib_linux_arm64_test.go": FAILING_TEST.replace("integ", "app"),
            "gen.go": "//go:build ignore\n\npackage main\n\nfunc main() {}\n",
            # Lost: a gate below the go line (1.21), and a contradiction.
            "old_test.go": "//go:build !go1.18\n\n" + FAILING_TEST.replace("integ", "app"),
            "dead/dead.go": "//go:build linux && windows\n\npackage dead\n",
            "dead/dead_test.go": "//go:build linux && windows\n\n"
            + FAILING_TEST.replace("integ", "dead"),
            # Normal: an opt-in tag.
            "integ_test.go": "//go:build integration\n\n" + FAILING_TEST.replace("integ", "app"),
        },
    )
    env = env_for(bindir, GOOS="linux", GOARCH="amd64")
    go(d, "test", "./...", env=env)  # passes: none of the failing tests ran
    doc = run_doctor(d, env)
    f = {x["location"]["file"]: x for x in of(doc, "constraint-excluded-files")}
    assert f["old_test.go"]["severity"] == "warning"
    assert "no configuration builds" in f["old_test.go"]["title"]
    assert f["old_test.go"]["location"]["line"] == 1
    assert "go1.21 (go.mod)" in f["old_test.go"]["detail"]  # says which matrix
    assert f["dead/dead.go"]["severity"] == "warning"
    assert "exclude" in evidence_text(f["dead/dead.go"])
    # Built on another port or with -tags: context, and says where.
    assert f["arm/impl_linux_arm64.go"]["severity"] == "info"
    assert "linux/arm64" in f["arm/impl_linux_arm64.go"]["detail"]
    tests_elsewhere = next(x for x in f.values() if "do not run on linux/amd64" in x["title"])
    assert tests_elsewhere["severity"] == "info"
    assert "linux/arm64" in tests_elsewhere["detail"]
    assert "integ_test.go" in tests_elsewhere["detail"] and "-tags" in tests_elsewhere["detail"]
    assert "gen.go" not in json.dumps(doc["findings"])
    assert not of(run_doctor(module(tmp_path / "ok", LIB), env), "constraint-excluded-files")


def test_platform_claims_come_from_the_constraint(tmp_path: Path) -> None:
    """darwin files build on every darwin port and on ios; `!darwin` on every port but
    those; `ignore` files (generators, cgo -godefs inputs) are no platform files."""
    test = FAILING_TEST.replace("integ", "app")
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "mac_test.go": "//go:build darwin\n\n" + test.replace("Fails", "Mac"),
            "w_windows_test.go": test.replace("Fails", "Win"),
            "nomac_test.go": "//go:build !darwin\n\n" + test.replace("Fails", "NoMac"),
            "gen_darwin.go": "//go:build ignore\n\npackage main\n\nfunc main() {}\n",
            "types_linux_test.go": "//go:build ignore && linux\n\n" + test.replace("Fails", "T"),
            "legacy_test.go": "// +build ignore\n\n" + test.replace("Fails", "Legacy"),
            "macos/m.go": "//go:build darwin\n\npackage macos\n",
            "macos/m_test.go": "//go:build darwin\n\n"
            + test.replace("package app", "package macos"),
        },
    )
    ports = json.loads(go(d, "tool", "dist", "list", "-json", env=doctor_env()))
    darwin_arches = sorted(p["GOARCH"] for p in ports if p["GOOS"] == "darwin")
    assert len(darwin_arches) >= 2, darwin_arches  # amd64 and arm64: one is not "darwin"
    on_mac = doctor_env(GOOS="darwin", GOARCH=darwin_arches[0])
    go(d, "vet", "./...", env=on_mac)  # nomac_test.go is left out there, without a word
    f = of(run_doctor(d, on_mac), "constraint-excluded-files")
    text = json.dumps(f)
    assert "nomac_test.go (!darwin): built on every port but darwin, ios" in text
    assert "w_windows_test.go (windows): built on windows" in text
    doc = run_doctor(d, doctor_env(GOOS="linux", GOARCH="amd64"))
    f = {x["location"]["file"]: x for x in of(doc, "constraint-excluded-files")}
    assert "mac_test.go (darwin): built on darwin, ios;" in f["mac_test.go"]["detail"]
    assert "it is built on darwin, ios, so its tests run only there" in f["macos/m.go"]["detail"]
    for arch in darwin_arches:  # no single darwin port is named as where it builds
        assert f"darwin/{arch}" not in json.dumps(doc["findings"])
    for name in ("gen_darwin.go", "types_linux_test.go", "legacy_test.go"):
        assert name not in json.dumps(doc["findings"])


def test_go_version_gates_are_normal(tmp_path: Path) -> None:
    """client_golang/gin style: files per Go release; a healthy module exits 0."""
    gated = '//go:build go1.22 && !go1.23\n\npackage app\n\nfunc v() string { return "22" }\n'
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "v_go122.go": gated,
            "v_go123.go": gated.replace("go1.22 && !go1.23", "go1.23").replace("22", "23"),
            "v_old.go": '//go:build !go1.22\n\npackage app\n\nfunc v() string { return "21" }\n',
            "v_go122_test.go": "//go:build go1.22 && !go1.23\n\n"
            + LIB["lib_test.go"].replace("TestAdd", "TestAdd122"),
            "w_windows.go": "package app\n",
        },
    )
    env = doctor_env(GOOS="linux", GOARCH="amd64")
    go(d, "test", "./...", env=env)
    doc = run_doctor(d, env)
    assert not of(doc, "constraint-excluded-files")
    assert ids(doc, "warning") == set()


EMBED = (
    'package app\n\nimport "embed"\n\n//go:embed static\nvar Static embed.FS\n\n'
    "// go:embed VERSION\nvar Version string\n"
)


@pytest.mark.parametrize("bindir", envs())
def test_embed_hidden_files_and_typo(tmp_path: Path, bindir: str | None) -> None:
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "embed.go": EMBED,
            "VERSION": "1.0\n",
            "static/index.html": "<p>hi</p>",
            "static/.env": "TOKEN=x\n",
            "static/_draft.html": "x",
        },
    )
    env = env_for(bindir)
    go(d, "build", "./...", env=env)
    doc = run_doctor(d, env)
    f = of(doc, "embed-hidden-files")
    assert {x["severity"] for x in f} == {"warning"}
    hidden = next(x for x in f if "leaves out" in x["title"])
    assert hidden["location"] == {"file": "embed.go", "line": 5}
    assert "static/.env" in evidence_text(hidden) and "static/_draft.html" in evidence_text(hidden)
    typo = next(x for x in f if "plain comment" in x["title"])
    assert typo["location"] == {"file": "embed.go", "line": 8}
    fixed = EMBED.replace("//go:embed static", "//go:embed all:static").replace("// go:", "//go:")
    (d / "embed.go").write_text(fixed)
    go(d, "build", "./...", env=env)
    assert not of(run_doctor(d, env), "embed-hidden-files")


@pytest.mark.parametrize("bindir", envs())
def test_misnamed_tests(tmp_path: Path, bindir: str | None) -> None:
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "more_test.go": 'package app\n\nimport "testing"\n\nfunc Testadd(t *testing.T) '
            "{ t.Fatal() }\n",
            "helpers.go": 'package app\n\nimport "testing"\n\nfunc TestInLib(t *testing.T) {}\n',
        },
    )
    env = env_for(bindir, GOFLAGS="-vet=off")
    assert "ok" in go(d, "test", "./...", env=env)  # passes: neither test ran
    doc = run_doctor(d, env, only=("misnamed-tests",))
    where = {(x["location"]["file"], x["location"]["line"]) for x in of(doc, "misnamed-tests")}
    assert where == {("more_test.go", 5), ("helpers.go", 5)}
    assert not of(run_doctor(module(tmp_path / "ok", LIB), env), "misnamed-tests")


def test_misnamed_tests_parses_go(tmp_path: Path) -> None:
    """Go source inside raw strings, helpers other packages call, methods: none are tests."""
    fixture = (
        'package app\n\nimport "testing"\n\nconst src = `package p\n\nimport "testing"\n\n'
        "func TestHello(t *testing.T) {}\nfunc Testlower(t *testing.T) {}\n`\n\n"
        "func TestSource(t *testing.T) { _ = src }\n"
    )
    suite = (
        'package suite\n\nimport "testing"\n\ntype F struct{}\n\n'
        "// TestAll runs the suite; callers pass their own fixture.\n"
        "func TestAll(t *testing.T, f F) {}\n\n"
        "func BenchmarkAll(b *testing.B) {}\n\n"
        "func (F) TestMethod(t *testing.T) {}\n\n"
        "func TestOrphan(t *testing.T) {}\n"
    )
    user = (
        'package app_test\n\nimport (\n\t"testing"\n\n\t"example.com/app/suite"\n)\n\n'
        "func BenchmarkSuite(b *testing.B) { suite.BenchmarkAll(b) }\n"
    )
    generic = (
        'package app\n\nimport tt "testing"\n\nfunc Testalias(t *tt.T) {}\n'
        "\nfunc Testresult(t *tt.T) error { return nil }\n"
    )
    d = module(
        tmp_path / "app",
        {
            **LIB,
            "fixture_test.go": fixture,
            "suite/suite.go": suite,
            "user_test.go": user,
            "alias_test.go": generic,
        },
    )
    env = doctor_env(GOFLAGS="-vet=off")
    assert "ok" in go(d, "test", "./...", env=env)
    doc = run_doctor(d, env, only=("misnamed-tests",))
    where = {(x["location"]["file"], x["location"]["line"]) for x in of(doc, "misnamed-tests")}
    # The orphan in a non-test file and the lower-case one through an import alias; not
    # the declarations inside the raw string, the helper that takes two arguments, the
    # benchmark helper app_test calls, the method, or a lower-case one with a result.
    assert where == {("suite/suite.go", 14), ("alias_test.go", 5)}
