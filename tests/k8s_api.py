"""A tiny Kubernetes API caller for the test harness, run inside the test's network namespace.

`python -m tests.k8s_api CA CERT KEY METHOD URL [CONTENT-TYPE]` sends stdin as the body
(when not empty) with the client certificate CERT/KEY, trusting CA only, and prints the
status code on the first line and the answer's body after it. It is deliberately not
godiag's own client (collect/kube), so the fixtures do not depend on the code under test.
"""

from __future__ import annotations

import http.client
import ssl
import sys
from urllib.parse import urlsplit


def main(argv: list[str]) -> int:
    ca, cert, key, method, url = argv[:5]
    ctype = argv[5] if len(argv) > 5 else "application/json"
    ctx = ssl.create_default_context(cafile=ca)
    ctx.load_cert_chain(cert, key)
    parts = urlsplit(url)
    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=ctx, timeout=30)
    body = sys.stdin.buffer.read() or None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = ctype
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    sys.stdout.buffer.write(f"{resp.status}\n".encode() + data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
