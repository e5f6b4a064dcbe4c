"""The request rate counts the service's answers, not the scrapes of its /metrics."""

from __future__ import annotations

from godiag.formats.observation import served_requests


def test_the_metrics_handlers_own_count_is_not_traffic() -> None:
    assert served_requests("http_requests_total")
    assert served_requests("grpc_server_requests_total")
    # client_golang counts every scrape of /metrics (godiag's own samples, Prometheus's)
    assert not served_requests("promhttp_metric_handler_requests_total")
    assert not served_requests("http_request_duration_seconds_count")
