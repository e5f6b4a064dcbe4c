"""What a service's /metrics say about its build (formats.prometheus.self_described)."""

from __future__ import annotations

from godiag.formats import prometheus
from godiag.model.capture import CaptureMeta

# the build lines of Debian's prometheus 2.42.0+ds-5+deb12u1 at /metrics, as served
DEBIAN_PROMETHEUS = b"""# TYPE go_info gauge
go_info{version="go1.19.8"} 1
# TYPE prometheus_build_info gauge
prometheus_build_info{branch="debian/sid",goarch="amd64",goos="linux",goversion="go1.19.8",\
revision="2.42.0+ds-5+deb12u1",version="2.42.0+ds"} 1
"""


def _said(text: bytes) -> CaptureMeta:
    return prometheus.self_described(prometheus.parse(text, "metrics"))


def test_the_revision_of_an_ecosystem_build_info_is_the_build_commit() -> None:
    meta = _said(DEBIAN_PROMETHEUS)
    assert meta.build_commit == "2.42.0+ds-5+deb12u1"
    assert meta.go_version == "go1.19.8"


def test_client_golang_build_info_gives_module_and_version() -> None:
    meta = _said(
        b'go_info{version="go1.26.0"} 1\n'
        b'go_build_info{checksum="",path="example.com/quotes",version="v1.2.3"} 1\n'
    )
    assert meta.tags == {"module": "example.com/quotes", "module_version": "v1.2.3"}
    # built at a module version (go install from the proxy: no VCS stamp), which pins it
    assert meta.build_commit == "example.com/quotes@v1.2.3" and meta.go_version == "go1.26.0"
    # a local build of a checkout says (devel): no version, no commit
    meta = _said(b'go_build_info{checksum="",path="example.com/quotes",version="(devel)"} 1\n')
    assert meta.build_commit is None


def test_an_unknown_revision_is_no_commit_and_goversion_stands_in() -> None:
    meta = _said(b'app_build_info{revision="unknown",goversion="go1.22"} 1\n'
                 b'x_build_info{revision="",goversion="go1.23"} 1\n')  # fmt: skip
    assert meta.build_commit is None and meta.go_version is None
    meta = _said(b'app_build_info{revision="abc123",goversion="go1.22.1"} 1\n')
    assert (meta.build_commit, meta.go_version) == ("abc123", "go1.22.1")
