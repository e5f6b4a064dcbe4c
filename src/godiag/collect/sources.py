"""Where a diagnosis's captures come from: one seam, as pprof's Fetcher is for profiles.

A source gives a `Recording` (model/observation.py): every raw capture with its role and
time, plus the facts that are not captures. Analysis never knows which source it was:
formats/observation.py decodes any Recording the same way. Sources today:

- the live service (`pipeline.observe.Observer`): watches a base URL over the window;
  it also hands over what it decoded on the way (`decoded`), so nothing is decoded twice;
- a saved bundle (`BundleSource`): a directory written by `diagnose --save-captures`.

A process on this machine (`godiag diagnose PID`) resolves to the live service at the
port it serves net/http/pprof on (`collect.goroutines.pprof_base_of_pid`, from
/proc/PID/net), with its executable's build info as metadata. A Kubernetes pod
(`k8s://`, collect/kube) resolves to the live service at its API-server proxy URL, with
a client carrying the cluster's credentials: no change to analysis.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from godiag.model.observation import Recording


class Source(Protocol):
    """Gives the captures of one diagnosis."""

    @property
    def decoded(self) -> Mapping[str, Any]:
        """Role -> what the source already decoded on the way (may be empty)."""
        ...

    def record(self) -> Recording: ...


class BundleSource:
    """A directory written by `diagnose --save-captures`: no network, nothing trusted."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path, self.max_bytes = path, max_bytes
        self.decoded: Mapping[str, Any] = {}

    def record(self) -> Recording:
        from godiag.collect import bundle

        return bundle.load(self.path, self.max_bytes)
