"""Drive a real headless Chromium (Debian `chromium`) over the DevTools protocol."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One page opened on a file; evaluate JS and send real mouse events."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        import websocket

        exe = chromium_path()
        assert exe, "chromium is not installed (apt-get install -y chromium)"
        self.profile_dir = tempfile.mkdtemp(prefix="godiag-chromium-")
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self.profile_dir}", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file = Path(self.profile_dir) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        ws_url = None
        while ws_url is None:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages:
                ws_url = pages[0]["webSocketDebuggerUrl"]
            elif time.monotonic() > deadline:
                self.close()
                raise RuntimeError("chromium opened no page")
            else:
                time.sleep(0.1)
        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self._id = 0
        # The target exists before its document does: until the navigation commits there is
        # no execution context ("Cannot find default execution context"), so every test
        # starts on the loaded page, not on the race.
        try:
            self.wait_for("document.readyState === 'complete' && location.href !== 'about:blank'",
                          timeout=timeout)  # fmt: skip
        except TimeoutError:
            self.close()
            raise

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result

    def eval(self, expr: str) -> Any:
        res = self.send("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"JS error: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expr: str, timeout: float = 60.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError):
                v = self.eval(expr)
                if v:
                    return v
            time.sleep(0.1)
        raise TimeoutError(f"timed out waiting for {expr}")

    def eval_in_frames(self, expr: str) -> list[Any]:
        """`expr` evaluated in every frame's own context (cross-origin frames included,
        which the page's own script cannot read), one value per frame."""
        self._id += 1
        enable_id = self._id
        self.ws.send(json.dumps({"id": enable_id, "method": "Runtime.enable"}))
        contexts: list[int] = []
        while True:  # enabling reports every existing context, then answers
            msg = json.loads(self.ws.recv())
            if msg.get("method") == "Runtime.executionContextCreated":
                contexts.append(msg["params"]["context"]["id"])
            if msg.get("id") == enable_id:
                break
        self.send("Runtime.disable")
        out = []
        for ctx in contexts:
            with contextlib.suppress(RuntimeError):
                res = self.send("Runtime.evaluate", expression=expr, contextId=ctx,
                                returnByValue=True)  # fmt: skip
                out.append(res.get("result", {}).get("value"))
        return out

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(Exception):
            self.proc.wait(timeout=10)
        shutil.rmtree(self.profile_dir, ignore_errors=True)
