"""A target's metrics URL apart from its pprof base URL (`[[targets]] metrics_url`,
`diagnose --metrics`, `check --metrics`): validated like `url`, read instead of
URL/metrics and URL/debug/vars, sent the target's credentials only on the target's own
origin, and recorded so that a saved bundle replays. Every server here is on loopback:
one serves a recorded service's pprof captures, another its metrics, each keeping the
Authorization header of every request it got."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from godiag import config as cfg
from godiag import schemas
from godiag.collect import bundle
from godiag.collect.http import HttpClient
from godiag.collect.pprof import collect_metrics_at
from godiag.errors import ConfigError, HttpStatusError
from godiag.pipeline.check import capture as check_capture
from godiag.pipeline.diagnose import DiagnoseOptions, diagnose, replay
from godiag.pipeline.storing import metrics_client
from tests.datapaths import DIAGNOSE

RECORDED = DIAGNOSE / "memory-leak-reqtracker"  # pprof and /metrics of one scenario run
BEARER = {"Authorization": "Bearer pprof-token-7"}
SECRET = "m3trics-pw-42"
BASIC = "Basic " + base64.b64encode(f"mon:{SECRET}".encode()).decode()
EXPVAR = b'{"cmdline": ["svc"], "memstats": {"HeapInuse": 4096, "HeapAlloc": 2048, "NumGC": 7}}'


@dataclass
class Recorder:
    """A loopback HTTP server answering from `routes` (path -> body; "debug=N" in the
    query picks `path?debug=N` first) and keeping (path, Authorization) of each request."""

    routes: dict[str, bytes]
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""

    def handler(self) -> type[BaseHTTPRequestHandler]:
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                rec.seen.append((parts.path, self.headers.get("Authorization")))
                debug = parse_qs(parts.query).get("debug", [""])[0]
                body = rec.routes.get(f"{parts.path}?debug={debug}") if debug else None
                body = body if body is not None else rec.routes.get(parts.path)
                status = 200 if body is not None else 404
                body = body if body is not None else b"404 page not found\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def paths(self) -> set[str]:
        return {p for p, _ in self.seen}

    def auths(self, path: str | None = None) -> set[str | None]:
        return {a for p, a in self.seen if path is None or p == path}


Serve = Callable[[dict[str, bytes]], Recorder]


def quick() -> DiagnoseOptions:
    """A short window, nothing stored, no CPU profile and no stored reference."""
    return DiagnoseOptions(window=1.0, cpu=0, store=False, flames=False, lookback=0)


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, bytes]) -> Recorder:
        rec = Recorder(routes)
        srv = ThreadingHTTPServer(("127.0.0.1", 0), rec.handler())
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        rec.url = f"http://127.0.0.1:{srv.server_address[1]}"
        return rec

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def recorded_pprof() -> dict[str, bytes]:
    """The pprof endpoints of the recorded service (its start captures), nothing else:
    no /metrics, no /debug/vars on this port."""
    caps = {r.role: r.capture.data for r in bundle.load(RECORDED, 64 << 20).captures}
    return {
        "/debug/pprof/heap": caps["heap@start"],
        "/debug/pprof/goroutine?debug=2": caps["goroutine@start"],
        "/debug/pprof/goroutine?debug=1": b"goroutine profile: total 12\n",
    }


def recorded_metrics() -> bytes:
    caps = {r.role: r.capture.data for r in bundle.load(RECORDED, 64 << 20).captures}
    return caps["metrics#0"]


# ---- configuration
def test_config_takes_a_metrics_url_and_its_own_credentials(tmp_path: Path) -> None:
    conf = tmp_path / "godiag.toml"
    conf.write_text(
        '[[targets]]\nname = "nats"\nurl = "http://127.0.0.1:6060"\n'
        f'metrics_url = "http://mon:{SECRET}@127.0.0.1:8222/metrics?token=abc"\n'
        '[targets.auth]\nbearer = "pprof-token-7"\n'
    )
    (t,) = cfg.load(conf).targets
    assert t.metrics_url == "http://127.0.0.1:8222/metrics?token=abc"  # the query is kept
    assert t.metrics_auth.header() == {"Authorization": BASIC}
    assert t.auth.header() == BEARER  # the target's own, for the pprof URL
    out = subprocess.run(
        [sys.executable, "-m", "godiag", "config", "check", "--config", str(conf)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout + out.stderr


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ('"ftp://127.0.0.1:8222/metrics"', "is not the http(s) URL of a metrics endpoint"),
        ('"http://127.0.0.1:8222"', "is not the http(s) URL of a metrics endpoint"),  # no path
        ('"http://127.0.0.1:x/metrics"', "is not the http(s) URL of a metrics endpoint"),
        ('"http://127.0.0.1:8222/metrics#top"', "is not the http(s) URL of a metrics endpoint"),
        ("9100", "expected a string, got int"),
        ("true", "expected a string, got bool"),
    ],
)
def test_a_bad_metrics_url_is_one_line_naming_file_target_and_key(
    tmp_path: Path, value: str, why: str
) -> None:
    conf = tmp_path / "godiag.toml"
    conf.write_text(f'[[targets]]\nname = "nats"\nurl = "http://h:1"\nmetrics_url = {value}\n')
    with pytest.raises(ConfigError) as err:
        cfg.load(conf)
    msg = str(err.value)
    assert "\n" not in msg and why in msg, msg
    assert msg.startswith(f"{conf}: targets 'nats'.metrics_url"), msg


def test_a_bad_metrics_url_never_echoes_its_password(tmp_path: Path) -> None:
    conf = tmp_path / "godiag.toml"
    conf.write_text(
        f'[[targets]]\nname = "a"\nurl = "http://h:1"\nmetrics_url = "ftp://u:{SECRET}@h/m"\n'
    )
    with pytest.raises(ConfigError) as err:
        cfg.load(conf)
    assert SECRET not in str(err.value)


# ---- where credentials go
def fetch(target: cfg.Target) -> None:
    assert target.metrics_url is not None
    collect_metrics_at(metrics_client(target, HttpClient(headers=BEARER)), target.metrics_url, 5)


def test_the_targets_credentials_go_to_a_metrics_url_of_its_own_origin_only(serve: Serve) -> None:
    pprof, other = serve({"/metrics": b"go_goroutines 3\n"}), serve({"/m": b"go_goroutines 3\n"})
    target = cfg.Target(name="svc", url=pprof.url, auth=cfg.Auth(bearer="pprof-token-7"))
    fetch(replace(target, metrics_url=f"{pprof.url}/metrics"))
    assert pprof.auths("/metrics") == {BEARER["Authorization"]}
    fetch(replace(target, metrics_url=f"{other.url}/m"))  # another port: another origin
    assert other.auths() == {None}


def test_a_metrics_url_with_user_pass_gets_those_and_the_pprof_url_never_does(
    serve: Serve, tmp_path: Path
) -> None:
    pprof = serve(recorded_pprof())
    mon = serve({"/metrics": recorded_metrics()})
    conf = tmp_path / "godiag.toml"
    conf.write_text(
        f'[[targets]]\nname = "svc"\nurl = "{pprof.url}"\n'
        f'metrics_url = "{mon.url.replace("//", f"//mon:{SECRET}@")}/metrics"\n'
        '[targets.auth]\nbearer = "pprof-token-7"\n'
    )
    (t,) = cfg.load(conf).targets
    fetch(t)
    assert mon.auths() == {BASIC}
    # a diagnosis: each URL gets its own credentials, and nothing else
    doc = diagnose(t, quick())
    assert pprof.auths() == {BEARER["Authorization"]}, pprof.seen
    assert mon.auths() == {BASIC}
    assert SECRET not in json.dumps(doc)


# ---- the observation
def test_diagnose_reads_pprof_on_one_port_and_metrics_on_another(
    serve: Serve, tmp_path: Path
) -> None:
    """The recorded service's pprof on one loopback port, its /metrics on another: the
    samples come from the metrics URL (the pprof port's /metrics is never asked; its
    /debug/vars only for the expvar document at the window's ends), the document names
    the metrics URL without credentials, and the saved captures replay offline
    (`godiag diagnose DIR`) to the same samples."""
    pprof = serve(recorded_pprof())
    mon = serve({"/metrics": recorded_metrics()})
    metrics = f"{mon.url.replace('//', f'//mon:{SECRET}@')}/metrics"
    t = cfg.Target(name="svc", url=pprof.url, auth=cfg.Auth(bearer="pprof-token-7"))
    url, auth = cfg.metrics_endpoint(metrics, "--metrics")
    t = replace(t, metrics_url=url, metrics_auth=auth)
    saved = tmp_path / "bundle"
    opts = DiagnoseOptions(window=1.5, cpu=0, store=False, flames=False, lookback=0,
                           save_captures=saved)  # fmt: skip
    doc = diagnose(t, opts)
    schemas.validate(doc)
    assert doc["metrics_source"] == "metrics"
    assert doc["target"] == {"url": pprof.url, "service_name": doc["target"]["service_name"],
                             "metrics_url": f"{mon.url}/metrics"}  # fmt: skip
    assert "/metrics" not in pprof.paths(), pprof.paths()
    assert len([p for p, _ in pprof.seen if p == "/debug/vars"]) <= 2  # vars@start, vars@end
    assert len([p for p, _ in mon.seen if p == "/metrics"]) >= 3
    assert doc["features"]["goroutines"] is not None
    assert not any("metrics" in m for m in doc["missing"]), doc["missing"]
    manifest = (saved / bundle.MANIFEST).read_text()
    assert SECRET not in manifest and SECRET not in json.dumps(doc)
    sources = {c["source"] for c in json.loads(manifest)["captures"] if c["role"][:8] == "metrics#"}
    assert sources == {f"{mon.url}/metrics"}
    # offline, through the command: the same target and samples
    again = replay(saved, DiagnoseOptions(store=False, flames=False))
    assert again["target"] == doc["target"] and again["series"] == doc["series"]
    r = subprocess.run(
        [sys.executable, "-m", "godiag", "diagnose", str(saved), "--format", "json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode in (0, 1), r.stderr
    assert json.loads(r.stdout)["target"]["metrics_url"] == f"{mon.url}/metrics"


def test_an_expvar_metrics_url_gives_the_samples(serve: Serve) -> None:
    pprof = serve(recorded_pprof())
    mon = serve({"/vars": EXPVAR})
    t = cfg.Target(name="svc", url=pprof.url, metrics_url=f"{mon.url}/vars")
    doc = diagnose(t, quick())
    assert doc["metrics_source"] == "expvar"
    assert doc["features"]["heap_inuse_bytes"] == 4096
    assert not {"/metrics", "/debug/vars"} & pprof.paths()


def test_a_failing_metrics_url_is_a_gap_naming_it_and_the_diagnosis_goes_on(
    serve: Serve,
) -> None:
    pprof = serve({**recorded_pprof(), "/metrics": recorded_metrics()})
    mon = serve({})  # answers 404 everywhere
    t = cfg.Target(name="svc", url=pprof.url, metrics_url=f"{mon.url}/metrics")
    doc = diagnose(t, quick())
    gap = [m for m in doc["missing"] if m.startswith("metrics URL")]
    assert gap and f"{mon.url}/metrics" in gap[0] and "404" in gap[0], doc["missing"]
    assert doc["metrics_source"] == "none"
    assert "/metrics" not in pprof.paths()  # no fallback: the metrics are where it says
    assert doc["features"]["goroutines"] == 12  # from the debug=1 goroutine profile
    assert doc["causes"], doc["verdict"]


def test_without_a_metrics_url_the_order_is_as_before(serve: Serve) -> None:
    """/metrics under the base URL, else /debug/vars: unchanged when no metrics URL is set."""
    pprof = serve({**recorded_pprof(), "/debug/vars": EXPVAR})
    doc = diagnose(cfg.Target(name="svc", url=pprof.url), quick())
    assert doc["metrics_source"] == "expvar"
    assert [p for p, _ in pprof.seen if p in ("/metrics", "/debug/vars")][:2] == [
        "/metrics", "/debug/vars"]  # fmt: skip
    assert any(n.startswith("metrics from /debug/vars (/metrics: ") for n in doc["notes"])


# ---- check
def test_check_reads_gc_counters_at_the_metrics_url(serve: Serve) -> None:
    pprof = serve({})
    mon = serve({"/debug/vars": EXPVAR})
    from godiag.model.capture import CaptureMeta

    cap = check_capture("metrics", HttpClient(), pprof.url, CaptureMeta(), 5,
                        metrics=(f"{mon.url}/debug/vars", HttpClient()))  # fmt: skip
    assert cap.profile_type == "expvar" and cap.source == f"{mon.url}/debug/vars"
    assert pprof.seen == []
    with pytest.raises(HttpStatusError):
        check_capture("metrics", HttpClient(), mon.url, CaptureMeta(), 5,
                      metrics=(f"{pprof.url}/metrics", HttpClient()))  # fmt: skip


# ---- the command line
@pytest.mark.parametrize("command", ["diagnose", "check"])
def test_metrics_not_a_url_is_exit_2_and_one_line(command: str) -> None:
    extra = ["--rule", "gc-pressure"] if command == "check" else []
    r = subprocess.run(
        [sys.executable, "-m", "godiag", command, "http://127.0.0.1:1", *extra,
         "--metrics", "not-a-url"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--metrics: 'not-a-url' is not the http(s) URL" in lines[0], lines
    assert "Traceback" not in r.stderr and r.stdout == ""


# ---- watch, and the targets commands resolve
def test_watch_scrapes_the_metrics_url(serve: Serve) -> None:
    from godiag.pipeline.watch import _scrape

    pprof = serve({"/metrics": b"go_goroutines 1\n"})
    mon = serve({"/metrics": b"go_goroutines 250\n", "/debug/vars": EXPVAR})
    t = cfg.Target(name="svc", url=pprof.url, auth=cfg.Auth(bearer="pprof-token-7"))
    assert _scrape(t) == {"go_goroutines": 1.0}  # no metrics URL: /metrics, as before
    assert _scrape(replace(t, metrics_url=f"{mon.url}/metrics")) == {"go_goroutines": 250.0}
    vars_ = _scrape(replace(t, metrics_url=f"{mon.url}/debug/vars"))
    assert vars_["go_memstats_heap_inuse_bytes"] == 4096 and vars_["go_gc_cycles_total"] == 7
    assert mon.auths() == {None}


def test_a_url_target_takes_the_metrics_url_of_the_target_configured_there(
    tmp_path: Path,
) -> None:
    from godiag.pipeline.profiles import resolve_service

    conf = tmp_path / "godiag.toml"
    conf.write_text(
        '[[targets]]\nname = "svc"\nurl = "http://127.0.0.1:6060"\n'
        'metrics_url = "http://127.0.0.1:8222/metrics"\n'
    )
    svc = resolve_service("http://127.0.0.1:6060/", str(conf))
    assert svc.metrics is not None and svc.metrics[0] == "http://127.0.0.1:8222/metrics"
    assert resolve_service("svc", str(conf)).metrics == svc.metrics
    other = resolve_service("http://127.0.0.1:6061", str(conf))
    assert other.metrics is None  # another service: nothing configured there
    given = resolve_service("svc", str(conf), metrics="http://127.0.0.1:9/m")
    assert given.metrics is not None and given.metrics[0] == "http://127.0.0.1:9/m"


def test_the_command_line_uses_the_configured_metrics_url_and_metrics_overrides_it(
    serve: Serve, tmp_path: Path
) -> None:
    pprof = serve(recorded_pprof())
    mon, mon2 = serve({"/metrics": recorded_metrics()}), serve({"/metrics": recorded_metrics()})
    conf = tmp_path / "godiag.toml"
    conf.write_text(f'[[targets]]\nname = "svc"\nurl = "{pprof.url}"\n'
                    f'metrics_url = "{mon.url}/metrics"\n')  # fmt: skip

    def run(*extra: str) -> dict[str, object]:
        r = subprocess.run(
            [sys.executable, "-m", "godiag", "diagnose", pprof.url, "--config", str(conf),
             "--window", "1s", "--cpu", "0", "--no-store", "--lookback", "0", "--format",
             "json", *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert r.returncode in (0, 1), r.stderr
        doc: dict[str, object] = json.loads(r.stdout)
        return doc

    assert run()["target"] == {"url": pprof.url, "service_name": "svc",
                               "metrics_url": f"{mon.url}/metrics"}  # fmt: skip
    asked = len(mon.seen)
    assert asked >= 3 and not mon2.seen
    doc = run("--metrics", f"{mon2.url}/metrics")
    assert doc["target"]["metrics_url"] == f"{mon2.url}/metrics"  # type: ignore[index]
    assert len(mon2.seen) >= 3 and len(mon.seen) == asked
    assert "/metrics" not in pprof.paths()
