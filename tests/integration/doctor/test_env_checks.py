"""Environment and mode checks on real modules with the real go command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.doctor.modules import (
    TOOLCHAINS,
    doctor_env,
    evidence_text,
    file_proxy,
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


def replaced(d: Path, mod: str, target: str) -> Path:
    """`d`'s go.mod requiring `mod` and replacing it with the folder `target`."""
    with (d / "go.mod").open("a") as fh:
        fh.write(f"\nrequire {mod} v0.0.0\n\nreplace {mod} => {target}\n")
    return d


def clean(tmp_path: Path) -> Path:
    return module(tmp_path / "app", LIB)


def test_clean_module_has_no_warnings(tmp_path: Path) -> None:
    d = clean(tmp_path)
    env = doctor_env()
    go(d, "test", "./...", env=env)
    doc = run_doctor(d, env)
    assert ids(doc, "warning") == set(), doc["findings"]


def test_gopath_mode(tmp_path: Path) -> None:
    d = clean(tmp_path)
    env = doctor_env(GO111MODULE="off")
    assert go(d, "env", "GOMOD", env=env).strip() == ""
    f = of(run_doctor(d, env), "gopath-mode")
    assert f and f[0]["severity"] == "warning" and "GO111MODULE=off" in f[0]["detail"]
    assert not of(run_doctor(d, doctor_env()), "gopath-mode")


def test_workspace_override_parent_go_work(tmp_path: Path) -> None:
    d = clean(tmp_path)
    lib = module(tmp_path / "lib", {"l.go": "package lib\n"}, path="example.com/lib")
    write(tmp_path, {"go.work": "go 1.21\n\nuse (\n\t./app\n\t./lib\n)\n"})
    env = doctor_env(GOWORK=None)
    go(d, "build", "./...", env=env)
    f = of(run_doctor(d, env), "workspace-override")
    assert f and f[0]["severity"] == "warning"
    assert f[0]["location"]["file"] == str(tmp_path / "go.work")
    assert "use ./lib" in evidence_text(f[0])
    # Names the module swapped, the version go.mod asks for and the directory used.
    assert "example.com/lib" in f[0]["title"]
    assert f"example.com/lib: not required by this module; go.work:5 adds {lib}" in f[0]["detail"]
    assert lib.is_dir()
    assert not of(run_doctor(d, doctor_env(GOWORK="off")), "workspace-override")


def test_workspace_of_the_module_alone_is_no_finding(tmp_path: Path) -> None:
    d = clean(tmp_path)
    env = doctor_env(GOWORK=None)
    go(d, "work", "init", ".", env=env)
    assert go(d, "env", "GOWORK", env=env).strip() == str(d / "go.work")
    doc = run_doctor(d, env)
    assert "workspace-override" not in ids(doc, "warning")
    # go work init writes this toolchain's go line (go.mod says 1.21): the defaults built
    # into the test binary change, which is said as context, proven by go list both ways.
    (f,) = of(doc, "workspace-override")
    assert f["severity"] == "info" and "GODEBUG" in f["title"]
    cmds = [e["command"] for e in f["evidence"]]
    assert any(c.startswith("GOPROXY=off GOWORK=off go list") for c in cmds), cmds
    assert "example.com/app.test" in f["detail"]
    (d / "go.work").write_text("go 1.21\n\nuse .\n")  # the same go line: nothing changes
    assert not of(run_doctor(d, env), "workspace-override")
    # The same go.work with a replace does swap a module: reported, with both sides.
    with (d / "go.work").open("a") as fh:
        fh.write("\nreplace example.com/dep => ../dep\n")
    f = of(run_doctor(d, env), "workspace-override")
    assert f and "example.com/dep" in f[0]["title"] and "../dep" in f[0]["detail"]


def test_goflags_tags_change_files(tmp_path: Path) -> None:
    d = module(
        tmp_path / "app",
        {**LIB, "integ.go": "//go:build integration\n\npackage app\n\nfunc Only() {}\n"},
    )
    env = doctor_env(GOFLAGS="-tags=integration")
    go(d, "build", "./...", env=env)
    f = of(run_doctor(d, env), "goflags-injection")
    assert f and f[0]["severity"] == "warning"
    assert "+ integ.go" in evidence_text(f[0])
    assert not of(run_doctor(d, doctor_env()), "goflags-injection")


def test_env_file_override_from_go_env_w(tmp_path: Path) -> None:
    d = clean(tmp_path)
    goenv = tmp_path / "goenv"
    env = doctor_env(GOENV=str(goenv))
    go(d, "env", "-w", "GOPRIVATE=git.corp.example", env=env)
    doc = run_doctor(d, env)
    f = of(doc, "env-file-override")
    assert f and f[0]["severity"] == "warning"
    assert f[0]["location"] == {"file": str(goenv), "line": 1}
    s = {x["name"]: x for x in doc["env"]["settings"]}
    assert s["GOPRIVATE"]["source"] == "goenv-file" and s["GOFLAGS"]["source"] == "default"
    # the same value from the environment is not persisted state
    assert not of(run_doctor(d, doctor_env(GOPRIVATE="git.corp.example")), "env-file-override")


def test_toolchain_local_blocks_required_version(tmp_path: Path) -> None:
    d = module(tmp_path / "app", LIB, go="1.99")
    env = doctor_env()
    assert "requires go >= 1.99" in go(d, "build", "./...", env=env, check=False)
    f = of(run_doctor(d, env), "toolchain-switch")
    assert f and f[0]["severity"] == "warning" and f[0]["location"]["file"].endswith("go.mod")
    assert not of(run_doctor(clean(tmp_path / "ok"), env), "toolchain-switch")


def test_toolchain_switch_to_cached_newer(tmp_path: Path) -> None:
    newer = TOOLCHAINS["newer"]
    if toolchain_bin(newer) is None:
        pytest.skip(f"{newer} is not in the module cache (make install fetches it)")
    d = module(tmp_path / "app", LIB)
    (d / "go.mod").write_text(f"module example.com/app\n\ngo 1.21\n\ntoolchain {newer}\n")
    env = doctor_env(GOTOOLCHAIN="auto")
    assert newer in go(d, "version", env=env)
    doc = run_doctor(d, env)
    f = of(doc, "toolchain-switch")
    assert f and newer in f[0]["title"] and doc["go"]["version"] == newer


def test_goroot_mismatch_copied_go_binary(tmp_path: Path) -> None:
    real = shutil.which("go")
    assert real
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy2(Path(real).resolve(), bindir / "go")
    d = clean(tmp_path)
    goroot = str(Path(real).resolve().parents[1])
    # a go binary copied out of its installation, kept working by GOROOT
    env = doctor_env(PATH=f"{bindir}:{doctor_env()['PATH']}", GOROOT=goroot)
    go(d, "version", env=env)
    f = of(run_doctor(d, env), "goroot-mismatch")
    assert f and f[0]["severity"] == "warning" and str(bindir / "go") in evidence_text(f[0])
    assert not of(run_doctor(d, doctor_env()), "goroot-mismatch")


CGO = {
    "c.go": 'package app\n\n/*\nint two(void) { return 2; }\n*/\nimport "C"\n\n'
    "func Two() int { return int(C.two()) }\n"
}


def test_cgo_files_excluded_with_cgo_off(tmp_path: Path) -> None:
    d = module(tmp_path / "app", {**LIB, **CGO})
    env = doctor_env(CGO_ENABLED="0")
    go(d, "build", "./...", env=env)  # builds fine, silently without c.go
    f = of(run_doctor(d, env), "cgo-disabled")
    assert f and f[0]["severity"] == "error"
    assert f[0]["location"] == {"file": "c.go", "line": 6}
    if shutil.which("gcc"):
        on = doctor_env(CGO_ENABLED="1")
        go(d, "build", "./...", env=on)
        assert not of(run_doctor(d, on), "cgo-disabled")


# A dependency shaped like github.com/mattn/go-sqlite3: cgo files, and a `!cgo` stub that
# compiles and fails every call at run time.
SQLISH = {
    "db.go": 'package sqlish\n\n// #include <stdlib.h>\nimport "C"\n\n'
    "func Open() error { C.free(C.malloc(1)); return nil }\n",
    "stub.go": '//go:build !cgo\n\npackage sqlish\n\nimport "errors"\n\n'
    'func Open() error { return errors.New("sqlish requires cgo: this is a stub") }\n',
}
# Pure Go where it matters here: a cgo -godefs input (`ignore`) and a cgo file of another OS.
PURE = {
    "p.go": "package pure\n\nfunc V() int { return 1 }\n",
    "types.go": '//go:build ignore\n\npackage pure\n\n// #include <stdio.h>\nimport "C"\n',
    "c_windows.go": 'package pure\n\nimport "C"\n',
}
USES_BOTH = (
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/pure"\n\t"example.com/sqlish"\n)\n\n'
    "func main() { fmt.Println(pure.V(), sqlish.Open()) }\n"
)


def _cgo_deps(tmp_path: Path, main: str) -> tuple[Path, dict[str, str]]:
    file_proxy(tmp_path / "proxy", "example.com/sqlish", "v1.0.0", SQLISH)
    proxy = file_proxy(tmp_path / "proxy", "example.com/pure", "v1.0.0", PURE)
    d = module(tmp_path / "app", {"main.go": main})
    env = doctor_env(
        GOPROXY=proxy,
        GOMODCACHE=str(tmp_path / "modcache"),
        GONOSUMDB="example.com",
        GOFLAGS="-modcacherw",
        CGO_ENABLED="0",
    )
    go(d, "mod", "tidy", env=env)
    return d, env


def test_cgo_off_dependency_builds_from_its_stub(tmp_path: Path) -> None:
    d, env = _cgo_deps(tmp_path, USES_BOTH)
    go(d, "build", "-o", "app", ".", env=env)  # not a word from the build
    ran = subprocess.run([str(d / "app")], capture_output=True, text=True, timeout=60)
    assert "this is a stub" in ran.stdout  # the failure shows only at run time
    f = of(run_doctor(d, env), "cgo-disabled")
    assert len(f) == 1, f  # example.com/pure's ignore and windows cgo files are not dropped
    assert f[0]["severity"] == "warning"
    assert (
        f[0]["title"]
        == "dependency example.com/sqlish builds without its 1 cgo file(s), from stub.go"
    )
    ev = {e["command"] or e["file"]: e for e in f[0]["evidence"]}
    off = next(e for c, e in ev.items() if " -deps " in c and not c.startswith("CGO_ENABLED=1"))
    assert "left out: db.go" in off["output"] and "GoFiles stub.go" in off["output"]
    on = next(e for c, e in ev.items() if c.startswith("CGO_ENABLED=1 "))
    assert "CgoFiles db.go" in on["output"]
    db = tmp_path / "modcache" / "example.com" / "sqlish@v1.0.0" / "db.go"
    assert f[0]["location"] == {"file": str(db), "line": 4}
    assert not of(run_doctor(d, {**env, "CGO_ENABLED": "1"}), "cgo-disabled")


def test_cgo_off_without_cgo_in_the_graph_is_quiet(tmp_path: Path) -> None:
    d, env = _cgo_deps(
        tmp_path, 'package main\n\nimport "example.com/pure"\n\nfunc main() { _ = pure.V() }\n'
    )
    go(d, "build", "./...", env=env)
    assert not of(run_doctor(d, env), "cgo-disabled")


def _dep(tmp_path: Path) -> None:
    module(
        tmp_path / "dep",
        {"dep.go": "package dep\n\nfunc V() int { return 1 }\n"},
        path="example.com/dep",
    )


USES_DEP = {"main.go": 'package main\n\nimport "example.com/dep"\n\nfunc main() { _ = dep.V() }\n'}


def test_vendor_auto(tmp_path: Path) -> None:
    _dep(tmp_path)
    d = module(tmp_path / "app", USES_DEP)
    with (d / "go.mod").open("a") as fh:
        fh.write("\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ../dep\n")
    env = doctor_env()
    go(d, "mod", "vendor", env=env)
    go(d, "build", "./...", env=env)
    doc = run_doctor(d, env)
    f = of(doc, "vendor-auto")
    assert f and f[0]["severity"] == "warning"
    assert f[0]["location"]["file"] == str(d / "vendor" / "modules.txt")
    r = of(doc, "replace-directives")
    assert r and r[0]["severity"] == "info" and r[0]["location"]["line"] == 7
    assert "edits in them are ignored" in f[0]["detail"] and "../dep" in f[0]["detail"]
    assert not of(run_doctor(d, doctor_env(GOFLAGS="-mod=mod")), "vendor-auto")


def test_vendor_auto_without_local_replace_is_context(tmp_path: Path) -> None:
    d = module(tmp_path / "app", {**USES_DEP, "main.go": "package main\n\nfunc main() {}\n"})
    write(d, {"vendor/modules.txt": ""})
    env = doctor_env()
    go(d, "build", "./...", env=env)
    f = of(run_doctor(d, env), "vendor-auto")
    assert f and f[0]["severity"] == "info"


def test_replace_to_missing_directory(tmp_path: Path) -> None:
    d = replaced(module(tmp_path / "app", USES_DEP), "example.com/dep", "../missing")
    env = doctor_env()
    assert "does not exist" in go(d, "build", "./...", env=env, check=False)
    f = of(run_doctor(d, env), "replace-directives")
    assert f and f[0]["severity"] == "error"
    assert f[0]["location"] == {"file": str(d / "go.mod"), "line": 7}
    assert not of(run_doctor(clean(tmp_path / "ok"), env), "replace-directives")
    # etcd's guard: a replace of a module the build does not use points nowhere on purpose.
    guard = module(tmp_path / "guard", {"main.go": "package main\n\nfunc main() {}\n"})
    with (guard / "go.mod").open("a") as fh:
        fh.write("\nreplace example.com/forbidden => ./FORBIDDEN_DEPENDENCY\n")
    go(guard, "build", "./...", env=env)
    g = of(run_doctor(guard, env), "replace-directives")
    assert g and g[0]["severity"] == "info" and "not in the build" in g[0]["title"]


@pytest.mark.parametrize(
    ("over", "sev", "name"),
    [
        ({"GOSUMDB": "off"}, "error", "GOSUMDB"),
        ({"GONOSUMDB": "*"}, "warning", "GONOSUMDB"),
        ({"GOINSECURE": "*.corp"}, "warning", "GOINSECURE"),
    ],
)
def test_checksum_verification_weakened(
    tmp_path: Path, over: dict[str, str], sev: str, name: str
) -> None:
    d = clean(tmp_path)
    env = doctor_env(**over)
    go(d, "build", "./...", env=env)
    f = of(run_doctor(d, env), "checksum-verification-weakened")
    assert f and f[0]["severity"] == sev and f"go env {name}" in evidence_text(f[0])
    ok = doctor_env(GOPRIVATE="git.corp.example", GOPROXY="https://proxy.golang.org,direct")
    assert not of(run_doctor(d, ok), "checksum-verification-weakened")


def _with_cached_dep(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    proxy = file_proxy(
        tmp_path / "proxy",
        "example.com/dep",
        "v1.0.0",
        {"dep.go": "package dep\n\nfunc V() int { return 1 }\n"},
    )
    d = module(tmp_path / "app", USES_DEP)
    env = doctor_env(
        GOPROXY=proxy,
        GOMODCACHE=str(tmp_path / "modcache"),
        GONOSUMDB="example.com/dep",
        GOFLAGS="-modcacherw",
    )
    go(d, "get", "example.com/dep@v1.0.0", env=env)
    go(d, "build", "./...", env=env)
    return d, env


def test_module_cache_modified(tmp_path: Path) -> None:
    d, env = _with_cached_dep(tmp_path)
    assert not of(run_doctor(d, env, deep=True), "module-cache-modified")
    src = tmp_path / "modcache" / "example.com" / "dep@v1.0.0" / "dep.go"
    src.write_text("package dep\n\nfunc V() int { return 2 }\n")
    assert "has been modified" in go(d, "mod", "verify", env=env, check=False)
    doc = run_doctor(d, env, deep=True)
    f = of(doc, "module-cache-modified")
    assert f and f[0]["severity"] == "error" and "dep@v1.0.0" in f[0]["location"]["file"]
    assert "module-cache-modified" in {s["id"] for s in run_doctor(d, env)["skipped"]}


def test_graph_drift_with_mod_mod(tmp_path: Path) -> None:
    d, env = _with_cached_dep(tmp_path)
    gomod = (d / "go.mod").read_text()
    (d / "go.mod").write_text("module example.com/app\n\ngo 1.21\n")
    (d / "go.sum").unlink()
    env["GOFLAGS"] = "-mod=mod"
    doc = run_doctor(d, env, deep=True)
    f = of(doc, "graph-drift")
    assert f and f[0]["severity"] == "warning" and "example.com/dep" in evidence_text(f[0])
    assert (d / "go.mod").read_text() == "module example.com/app\n\ngo 1.21\n"  # untouched
    (d / "go.mod").write_text(gomod)
    go(d, "mod", "tidy", env=env)
    assert not of(run_doctor(d, env, deep=True), "graph-drift")


@pytest.mark.parametrize("value", ["off", "relative/cache"])
def test_gocache_misconfigured(tmp_path: Path, value: str) -> None:
    d = clean(tmp_path)
    env = doctor_env(GOCACHE=value)
    out = subprocess.run(["go", "build", "./..."], cwd=d, env=env, capture_output=True, text=True)
    assert out.returncode != 0  # the go command refuses, but `go env` says nothing
    f = of(run_doctor(d, env), "gocache-misconfigured")
    assert f and f[0]["severity"] == "warning" and value in f[0]["title"]
    assert not of(run_doctor(d, doctor_env(GOCACHE=str(tmp_path / "c"))), "gocache-misconfigured")


def test_packages_unloadable(tmp_path: Path) -> None:
    """`go list ./...` failing for the whole folder is an error, not "0 error(s)": a
    replaced module asking for a newer go line than go.mod's, and no go.mod at all."""
    module(tmp_path / "lib", {"l.go": "package lib\n"}, path="example.com/lib", go="1.26")
    d = module(tmp_path / "app", {"a.go": 'package app\n\nimport _ "example.com/lib"\n'})
    d = replaced(d, "example.com/lib", "../lib")
    env = doctor_env()
    assert "updates to go.mod needed" in go(d, "build", "./...", env=env, check=False)
    f = of(run_doctor(d, env), "packages-unloadable")
    assert f and f[0]["severity"] == "error"
    assert "updates to go.mod needed" in f[0]["title"] and "go mod tidy" in f[0]["title"]
    bare = write(tmp_path / "bare", {"m.go": "package main\n\nfunc main() {}\n"})
    assert (
        "does not contain main module"
        in of(run_doctor(bare, env), "packages-unloadable")[0]["title"]
    )
    # a clean module, and one with no package at all, load fine
    assert not of(run_doctor(clean(tmp_path), env), "packages-unloadable")
    assert not of(run_doctor(module(tmp_path / "empty", {}), env), "packages-unloadable")
