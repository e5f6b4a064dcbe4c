"""deploy/Dockerfile read statically (docker build is not run here): pinned bases, the wheel
built from this checkout, an offline install, a non-root user, and nothing installed when
a container starts, anywhere in deploy/."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field

from tests.datapaths import REPO

DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"


@dataclass
class Stage:
    base: str
    name: str | None
    steps: list[tuple[str, str]] = field(default_factory=list)  # (instruction, arguments)


def stages() -> list[Stage]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())  # line continuations
    out: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, args = line.partition(" ")
        op = op.upper()
        if op == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.I)
            assert m, line
            out.append(Stage(m.group(1), m.group(2)))
        else:
            assert out, f"{op} before the first FROM"
            out[-1].steps.append((op, args.strip()))
    return out


def test_every_base_image_is_pinned() -> None:
    for st in stages():
        if any(st.base == s.name for s in stages()):
            continue  # a stage of this file
        pinned = re.search(r"@sha256:[0-9a-f]{64}$", st.base) or re.fullmatch(
            r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", st.base
        )
        assert pinned, f"{st.base}: pin the base by digest or an exact version tag"
        assert ":latest" not in st.base


def test_the_wheel_is_built_from_the_checkout_and_installed_offline() -> None:
    build, final = stages()[0], stages()[-1]
    copied = [a for op, a in build.steps if op == "COPY"]
    assert any(a.split()[0] == "src" for a in copied) and any("pyproject.toml" in a for a in copied)
    runs = " ".join(a for op, a in build.steps if op == "RUN")
    assert re.search(r"pip wheel .*--wheel-dir /wheels '\.\[k8s\]'", runs), runs
    assert any(
        op == "COPY" and a.startswith(f"--from={build.name} /wheels") for op, a in final.steps
    )
    installs = [a for op, a in final.steps if op == "RUN" and "pip install" in a]
    assert installs and all("--no-index" in a and "--find-links /wheels" in a for a in installs)
    # the extra the image installs is the operator's, and it is declared
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(d.startswith("kopf") for d in extras["k8s"])
    assert "godiag[k8s]" in installs[0]


def test_the_image_runs_as_a_user_and_installs_nothing_at_start() -> None:
    final = stages()[-1]
    ops = [op for op, _ in final.steps]
    users = [a for op, a in final.steps if op == "USER"]
    assert users, "the final stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid not in ("root", "0") and (not uid.isdigit() or int(uid) >= 1000)
    assert ops.index("USER") > max(i for i, op in enumerate(ops) if op == "RUN")
    start = " ".join(a for op, a in final.steps if op in ("ENTRYPOINT", "CMD"))
    assert start.startswith('["godiag"]') or '"godiag"' in start
    assert "pip" not in start and "sh -c" not in start


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    """The Dockerfile's own ignore file lets through what its COPY lines name."""
    rules = [r for r in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
             if r.strip() and not r.startswith("#")]  # fmt: skip

    def kept(path: str) -> bool:
        keep = True
        for r in rules:
            neg = r.startswith("!")
            pat = r[1:] if neg else r
            if fnmatch.fnmatch(path, pat.rstrip("/")) or path.startswith(pat.rstrip("/") + "/"):
                keep = neg
        return keep

    for st in stages():
        for op, args in st.steps:
            if op != "COPY" or args.startswith("--from"):
                continue
            for src in args.split()[:-1]:
                assert (REPO / src).exists(), src
                assert kept(src), f"{src} is excluded by Dockerfile.dockerignore"
    assert not kept("tests/data") and not kept(".git") and kept("src/godiag/cli/operator.py")


def test_nothing_in_deploy_installs_at_run_time() -> None:
    for path in sorted(DEPLOY.rglob("*")):
        if path.is_file() and path.name != "Dockerfile":
            text = path.read_text()
            assert not re.search(r"pip3? install|pipx |uv pip|easy_install", text), path
