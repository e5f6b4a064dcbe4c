"""The image's wheel and the Helm chart: the wheel deploy/Dockerfile installs builds from this
checkout, `helm lint` passes, and what `helm template` renders is least-privilege RBAC, a
godiag.toml that godiag's own strict parser accepts, pinned images and non-root pods."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from godiag import config as cfg
from tests.datapaths import REPO

pytestmark = pytest.mark.integration

CHART = REPO / "deploy" / "helm" / "godiag"
POD_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/proxy"], "verbs": ["get"]},
]
CRD_RULES = [
    {"apiGroups": ["godiag.dev"], "resources": ["godiagnoses"],
     "verbs": ["get", "list", "watch", "patch"]},
    {"apiGroups": ["godiag.dev"], "resources": ["godiagnoses/status"],
     "verbs": ["get", "patch", "update"]},
]  # fmt: skip


def helm_path() -> str | None:
    local = REPO / ".cache" / "k8s" / "bin" / "helm"
    return str(local) if os.access(local, os.X_OK) else shutil.which("helm")


@pytest.fixture(scope="module")
def helm() -> str:
    found = helm_path()
    if found is None:
        pytest.skip("helm not found (make helm-bin builds it into .cache/k8s/bin)")
    return found


def render(helm: str, *sets: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    args = [helm, "template", "gd", str(CHART), "--namespace", "monitoring", "--include-crds"]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=check)


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(objs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] == kind]


def test_the_wheel_the_image_installs_builds(tmp_path: Path) -> None:
    """deploy/Dockerfile's build stage: `pip wheel` of the checkout (here without the
    dependencies' wheels, which come from the registry)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
         str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("godiag-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
        text = z.read(meta).decode()
    assert {"godiag/cli/operator.py", "godiag/pipeline/operator.py",
            "godiag/pipeline/godiagnosis.py"} <= names  # fmt: skip
    assert "Provides-Extra: k8s" in text
    assert any(line.startswith("Requires-Dist: kopf") and line.endswith("extra == 'k8s'")
               for line in text.splitlines())  # fmt: skip


def test_helm_lint(helm: str) -> None:
    r = subprocess.run([helm, "lint", "--strict", str(CHART)], capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 chart(s) failed" in r.stdout


def test_rendered_chart_namespaced(helm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    objs = docs(render(helm, "rbac.namespaces={shop,payments}").stdout)
    kinds = sorted({o["kind"] for o in objs})
    assert kinds == ["ConfigMap", "CustomResourceDefinition", "Deployment", "Role",
                     "RoleBinding", "Service", "ServiceAccount"]  # fmt: skip
    assert not by_kind(objs, "ClusterRole") and not by_kind(objs, "ClusterRoleBinding")
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r["rules"]
             for r in by_kind(objs, "Role")}  # fmt: skip
    assert roles == {
        ("shop", "gd-godiag-serve"): POD_RULES,
        ("payments", "gd-godiag-serve"): POD_RULES,
        ("shop", "gd-godiag-operator"): POD_RULES + CRD_RULES,
        ("payments", "gd-godiag-operator"): POD_RULES + CRD_RULES,
    }
    for b in by_kind(objs, "RoleBinding"):
        (subject,) = b["subjects"]
        assert subject == {"kind": "ServiceAccount", "name": b["roleRef"]["name"],
                           "namespace": "monitoring"}  # fmt: skip
    # the serve configuration is what godiag itself accepts, with the allowlist in it
    (cm,) = by_kind(objs, "ConfigMap")
    import tomllib

    # the Secret's keys, as the pod's environment has them
    monkeypatch.setenv("GODIAG_ADMIN_TOKEN", "t")
    monkeypatch.setenv("GODIAG_READ_PASSWORD", "p")
    conf = cfg.parse(tomllib.loads(cm["data"]["godiag.toml"]))
    assert conf.kubernetes.enabled and conf.kubernetes.in_cluster
    assert conf.kubernetes.namespaces == ("shop", "payments")
    assert conf.serve is not None and conf.serve.listen == "0.0.0.0:8080"
    deps = {d["metadata"]["name"]: d for d in by_kind(objs, "Deployment")}
    op = deps["gd-godiag-operator"]["spec"]["template"]["spec"]["containers"][0]
    assert op["args"][0] == "operator"
    assert "--namespace=shop" in op["args"] and "--namespace=payments" in op["args"]
    (crd,) = by_kind(objs, "CustomResourceDefinition")
    assert crd["metadata"]["name"] == "godiagnoses.godiag.dev"


def test_rendered_chart_cluster_wide_and_pods_are_locked_down(helm: str) -> None:
    objs = docs(render(helm, "rbac.namespaces=null", "kubernetes.selectors={app=api}",
                       "image.digest=sha256:" + "a" * 64).stdout)  # fmt: skip
    assert not by_kind(objs, "Role")
    rules = {r["metadata"]["name"]: r["rules"] for r in by_kind(objs, "ClusterRole")}
    assert rules == {"gd-godiag-serve": POD_RULES, "gd-godiag-operator": POD_RULES + CRD_RULES}
    for d in by_kind(objs, "Deployment"):
        spec = d["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["serviceAccountName"] == d["metadata"]["name"]
        for c in spec["containers"]:
            assert c["image"] == "godiag@sha256:" + "a" * 64
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"]
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert "command" not in c  # the image's entrypoint: godiag, nothing installed
            assert "--namespace" not in " ".join(c.get("args", []))


def test_an_open_allowlist_does_not_render(helm: str) -> None:
    r = render(helm, "rbac.namespaces=null", check=False)
    assert r.returncode != 0
    assert "alerts may name only pods of an allowlist" in r.stderr
