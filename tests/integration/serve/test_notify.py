"""Notifications: the JSON webhook and Slack-compatible JSON carry the top causes and the
report link, with secrets in labels and annotations redacted."""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any

import httpx
import pytest

from tests.integration.serve.harness import ADMIN_H, alert, payload

pytestmark = pytest.mark.integration


def test_webhook_and_slack_notifications(serve_factory, leaky) -> None:  # type: ignore[no-untyped-def]
    got: list[tuple[str, dict[str, Any]]] = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        sp = serve_factory(
            {"leaky": leaky.url},
            'public_url = "https://godiag.example"',
            tail=f'[serve.notify]\nwebhook = "{hook}/json"\nslack = "{hook}/slack"',
        )
        labels = {"alertname": "GoGoroutinesHigh", "job": "leaky", "api_token": "tok-123456"}
        notes = {"description": "dsn postgres://app:hunter2@db/x password=hunter2"}
        body = payload([alert("feedfeedfeedfeed", labels, annotations=notes)])
        httpx.post(f"{sp.url}/api/v1/alerts", content=body, headers=ADMIN_H, timeout=10)
        (inc,) = sp.wait_state({"done"})
        deadline = time.monotonic() + 20
        while len(got) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        msgs = dict(got)
        js, sl = msgs["/json"], msgs["/slack"]
        assert js["report_url"] == f"https://godiag.example/incidents/{inc['id']}"
        assert js["causes"][0]["kind"] == "goroutine-leak"
        assert "main.fetch.func1" in js["causes"][0]["title"]
        assert "hunter2" not in json.dumps(msgs) and "tok-123456" not in json.dumps(msgs)
        assert js["labels"]["api_token"] == "REDACTED"
        assert "goroutine-leak" in sl["text"] and sl["blocks"][0]["type"] == "header"
        page = httpx.get(f"{sp.url}/incidents/{inc['id']}", auth=("viewer", "viewer-pw-77")).text
        api = httpx.get(f"{sp.url}/api/v1/incidents", auth=("viewer", "viewer-pw-77")).text
        assert "hunter2" not in page + api and "tok-123456" not in page + api
    finally:
        srv.shutdown()
