"""Kubernetes without an API server: the GoDiagnosis spec and status mapping (the status of
real diagnoses replayed from recorded bundles), the `[kubernetes]` section of godiag.toml,
and how serve turns an alert's namespace/pod labels into a pod target or a refusal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from godiag import config as cfg
from godiag.errors import CollectError, ConfigError
from godiag.formats.alertmanager import parse as parse_webhook
from godiag.pipeline import godiagnosis as gd
from godiag.pipeline.diagnose import DiagnoseOptions, replay
from godiag.pipeline.jobs import plan
from godiag.pipeline.kubetargets import check_labels, pod_ref, selector_matches, split_ref
from godiag.pipeline.settings import ServeSettings
from tests.datapaths import DIAGNOSE

NOW = "2026-12-04T06:00:00Z"


def obj(
    spec: dict[str, Any], generation: int = 1, status: dict[str, Any] | None = None
) -> dict[str, Any]:
    out = {"metadata": {"name": "d1", "namespace": "shop", "generation": generation}, "spec": spec}
    if status is not None:
        out["status"] = status
    return out


def test_spec_defaults_and_target() -> None:
    req = gd.parse_spec(obj({"target": {"pod": "api-7d9f", "port": 6060}}))
    assert (req.namespace, req.pod, req.port, req.window, req.lookback) == (
        "shop", "api-7d9f", 6060, 5.0, 300.0)  # fmt: skip
    assert req.target() == "k8s://shop/api-7d9f:6060"
    req = gd.parse_spec(
        obj(
            {
                "target": {"namespace": "pay", "selector": "app=api", "port": 8080},
                "window": "30s",
                "lookback": "10m",
            }
        )
    )
    assert (req.namespace, req.selector, req.window, req.lookback) == (
        "pay",
        "app=api",
        30.0,
        600.0,
    )


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ({}, "spec.target: missing"),
        ({"target": {"port": 6060}}, "exactly one of pod, selector"),
        ({"target": {"pod": "a", "selector": "app=a", "port": 1}}, "exactly one of pod, selector"),
        ({"target": {"pod": "A_b", "port": 6060}}, "spec.target.pod: 'A_b' is not a pod name"),
        ({"target": {"pod": "a", "port": 70000}}, "spec.target.port: 70000"),
        ({"target": {"pod": "a", "port": "6060"}}, "spec.target.port"),
        ({"target": {"pod": "a", "port": 1, "host": "10.0.0.1"}}, "unknown field 'host'"),
        ({"target": {"pod": "a", "port": 1}, "window": "0.5s"}, "spec.window: 0.5s is outside"),
        ({"target": {"pod": "a", "port": 1}, "window": "soon"}, "spec.window"),
        ({"target": {"pod": "a", "port": 1}, "lookback": "2h"}, "spec.lookback: 2h is outside"),
    ],
)
def test_spec_errors_name_the_field(spec: dict[str, Any], why: str) -> None:
    with pytest.raises(gd.SpecError, match=None) as err:
        gd.parse_spec(obj(spec))
    assert why in str(err.value)


def _replayed(name: str) -> dict[str, Any]:
    return replay(DIAGNOSE / name, DiagnoseOptions(store=False))


def test_done_status_of_a_real_deadlock_diagnosis() -> None:
    doc = _replayed("deadlock-jobqueue")
    expected = json.loads((DIAGNOSE / "deadlock-jobqueue" / "expected.json").read_text())
    top = expected["causes"][0]
    before = gd.running(obj({"target": {"pod": "a", "port": 1}}), "k8s://shop/a:1", NOW)
    st = gd.done(obj({}, generation=3, status=before), doc, "k8s://shop/a:1", NOW)
    assert st["phase"] == "Done" and st["observedGeneration"] == 3
    assert expected["confident"] and st["verdict"] == top["kind"] == "deadlock"
    assert st["probability"] == top["probability"]
    assert st["location"] == top["location"] and st["location"]["line"] > 0
    assert [c["kind"] for c in st["causes"]] == [c["kind"] for c in expected["causes"]]
    assert st["summary"] == expected["verdict"]
    done = {c["type"]: c for c in st["conditions"]}
    assert done["Done"]["status"] == "True" and done["Done"]["reason"] == "Diagnosed"
    assert done["Running"]["status"] == "False"
    assert all(c["observedGeneration"] == 3 for c in st["conditions"])
    assert gd.finished({"metadata": {"generation": 3}, "status": st})
    assert not gd.finished({"metadata": {"generation": 4}, "status": st})  # the spec changed


def test_a_diagnosis_that_is_not_sure_says_not_sure() -> None:
    # goroutine-leak-sessionhub ranks its leak first but was recorded on a saturated machine
    assert not json.loads((DIAGNOSE / "goroutine-leak-sessionhub" / "expected.json").read_text())[
        "confident"
    ]
    for bundle in sorted(p.name for p in DIAGNOSE.iterdir() if (p / "expected.json").is_file()):
        doc = _replayed(bundle)
        st = gd.done(obj({}), doc, "k8s://shop/a:1", NOW)
        if doc["confident"]:
            assert st["verdict"] == doc["causes"][0]["kind"], bundle
        else:
            assert st["verdict"] == gd.NOT_SURE, bundle
            assert {c["type"]: c["reason"] for c in st["conditions"]}["Done"] == "NotSure"
        # what the CRD's schema allows: no nulls inside the causes, at most three
        assert len(st["causes"]) <= 3
        assert all(v is not None for c in st["causes"] for v in c.values())


def test_a_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    first = gd.failed(obj({}), "pod shop/a not found", None, "2026-12-04T05:00:00Z")
    again = gd.failed(obj({}, status=first), "pod shop/a not found", None, NOW)
    assert first["reason"] == "pod shop/a not found" and again["phase"] == "Failed"
    assert [c["lastTransitionTime"] for c in again["conditions"]] == ["2026-12-04T05:00:00Z"] * 2


def test_the_crd_and_the_chart_copy_are_the_same() -> None:
    from tests.datapaths import REPO

    crd = REPO / "deploy" / "crds" / "godiagnoses.godiag.dev.yaml"
    assert crd.read_bytes() == (REPO / "deploy/helm/godiag/crds" / crd.name).read_bytes()


# --- [kubernetes] in godiag.toml


def test_kubernetes_section_is_strict() -> None:
    k = cfg.parse({"kubernetes": {"enabled": True, "namespaces": ["shop"],
                                  "selectors": ["app=api,tier!=db"], "default_port": 8080}}
                  ).kubernetes  # fmt: skip
    assert k.enabled and k.namespaces == ("shop",) and k.default_port == 8080
    assert cfg.parse({}).kubernetes.enabled is False
    bad = [
        ({"enabled": True}, "enabled without namespaces or selectors"),
        ({"enabled": "yes", "namespaces": ["a"]}, "kubernetes.enabled: expected true or false"),
        ({"namespaces": ["Shop"]}, "'Shop' is not a namespace name"),
        ({"selectors": ["app in (a,b)"]}, "is not a label selector"),
        ({"default_port": 0}, "default_port: expected a port number"),
        ({"kubeconfig": "/k", "in_cluster": True}, "either kubeconfig or in_cluster"),
        ({"namespace": ["a"]}, "unknown key 'namespace'"),
    ]
    for section, why in bad:
        with pytest.raises(ConfigError) as err:
            cfg.parse({"kubernetes": section}, Path("godiag.toml"))
        assert why in str(err.value), section


def test_selectors_match_as_the_api_server_reads_them() -> None:
    labels = {"app": "api", "tier": "web"}
    assert selector_matches("app=api", labels)
    assert selector_matches("app==api, tier!=db", labels)
    assert not selector_matches("app=api,tier=db", labels)
    assert selector_matches("team!=x", labels)  # absent label: != holds
    assert not selector_matches("team=", labels)  # an absent label is not the empty value
    k = cfg.parse({"kubernetes": {"enabled": True, "selectors": ["app=api", "app=worker"]}})
    check_labels("k8s://shop/a:1", {"app": "worker"}, k.kubernetes)
    with pytest.raises(CollectError, match="matches none of the \\[kubernetes\\] selectors"):
        check_labels("k8s://shop/a:1", {"app": "db"}, k.kubernetes)
    assert split_ref("k8s://shop/api-1.x:6060") == ("shop", "api-1.x", 6060)
    with pytest.raises(CollectError):
        split_ref("k8s://shop/api/../x:6060")


def _alerts(*labels: dict[str, str]) -> Any:
    alerts = [
        {"status": "firing", "labels": {"alertname": "GoGoroutinesHigh", **lab},
         "annotations": {}, "startsAt": "2026-12-04T05:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "fingerprint": f"{i:016x}"}
        for i, lab in enumerate(labels)
    ]  # fmt: skip
    return parse_webhook(json.dumps({"version": "4", "status": "firing", "receiver": "g",
                                     "alerts": alerts}).encode(), "test")  # fmt: skip


def test_alerts_about_pods_resolve_inside_the_allowlist_only() -> None:
    conf = cfg.parse({
        "targets": [{"name": "api", "url": "http://127.0.0.1:6060"}],
        "kubernetes": {"enabled": True, "namespaces": ["shop"], "default_port": 6061},
    })  # fmt: skip
    rows, _ = plan(
        _alerts(
            {"namespace": "shop", "pod": "api-7d9f"},
            {"namespace": "kube-system", "pod": "etcd-0"},
            {"namespace": "shop", "pod": "x", "job": "api"},  # a configured target wins
            {"namespace": "shop", "pod": "../../api/v1/secrets"},
            {"pod": "api-7d9f"},
        ),
        conf,
        ServeSettings(),
    )
    got = [(r.state, r.target, r.note) for r in rows]
    assert got[0] == ("queued", "k8s://shop/api-7d9f:6061", None)
    assert got[1][0] == "skipped" and got[1][1] is None
    assert got[1][2] == ("refused: namespace 'kube-system' is not in the [kubernetes] "
                         "namespaces allowlist (shop)")  # fmt: skip
    assert got[2] == ("queued", "api", None)
    assert got[3][0] == "skipped" and "do not name a pod" in (got[3][2] or "")
    assert got[4][0] == "skipped" and "unknown target" in (got[4][2] or "")
    off = cfg.parse({"kubernetes": {"enabled": False, "namespaces": ["shop"]}})
    rows, _ = plan(_alerts({"namespace": "shop", "pod": "api"}), off, ServeSettings())
    assert rows[0].state == "skipped" and "unknown target" in (rows[0].note or "")
    assert pod_ref({"namespace": "shop"}, off.kubernetes) == (None, None)


def test_reconcile_maps_each_outcome_to_a_status() -> None:
    from godiag.pipeline.operator import reconcile

    asked: list[gd.Request] = []

    def replayed(req: gd.Request) -> dict[str, Any]:
        asked.append(req)
        return _replayed("memory-leak-reqtracker")

    def unreachable(req: gd.Request) -> dict[str, Any]:
        raise CollectError(f"{req.target()}: the pod is Pending with no IP")

    spec = {"target": {"pod": "api-0", "port": 6060}, "window": "2s"}
    st = reconcile(obj(spec), replayed)
    assert st["phase"] == "Done" and st["verdict"] == "memory-leak"
    assert st["target"] == "k8s://shop/api-0:6060" and asked[0].window == 2.0
    st = reconcile(obj(spec), unreachable)
    assert (
        st["phase"] == "Failed"
        and st["reason"] == "k8s://shop/api-0:6060: the pod is Pending with no IP"
    )
    st = reconcile(obj({"target": {"pod": "api-0"}}), replayed)
    assert st["phase"] == "Failed" and st["reason"].startswith("invalid spec: spec.target.port")
    assert len(asked) == 1  # an invalid spec never reaches the pod


def test_pending_then_running_keep_the_target() -> None:
    o = obj({"target": {"pod": "api-0", "port": 6060}})
    p = gd.pending(o, "k8s://shop/api-0:6060", NOW)
    r = gd.running(obj({}, status=p), "k8s://shop/api-0:6060", NOW)
    assert (p["phase"], r["phase"]) == ("Pending", "Running")
    assert {c["type"]: c["status"] for c in r["conditions"]} == {"Running": "True", "Done": "False"}
    assert not gd.finished({"metadata": {"generation": 1}, "status": r})
