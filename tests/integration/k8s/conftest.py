"""The Kubernetes tests share one real control plane per session (tests/k8s.py)."""

from tests.k8s import k8s_cluster  # noqa: F401  (the fixture)
