"""redact_text: the same redactions as the former regular expressions (kept here as the
oracle), in time linear in the text: hostile alert labels cannot stall `godiag serve`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from godiag.toolchain.envsnapshot import REDACTED, redact_text

# The patterns redact_text used before it was made linear: what must be hidden.
_OLD_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^@/\s,|]+)@")
_OLD_KV = re.compile(
    r"(?i)\b(?P<k>[\w-]*(?:token|password|passwd|secret|apikey|api_key))(?P<sep>[=:]\s*)(?P<v>[^\s,&|]+)"
)
_OLD_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")


def oracle(text: str) -> str:
    text = _OLD_URL.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    text = _OLD_KV.sub(lambda m: f"{m.group('k')}{m.group('sep')}{REDACTED}", text)
    return _OLD_BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)


PIECES = ["token", "TOKEN", "password", "passwd", "secret", "apikey", "api_key", "Bearer ",
          "basic ", "://", "http://", "1x://", "u:p@", "@", "=", ":", " ", "\t", ",", "&", "|",
          "-", "_", "a", "Z", "9", "/", ".", "é", "ſ", "abcdefghij"]  # fmt: skip


@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_same_redactions_as_the_former_patterns(text: str) -> None:
    assert redact_text(text) == oracle(text)


@given(st.text(max_size=60))
def test_same_redactions_on_any_text(text: str) -> None:
    assert redact_text(text) == oracle(text)


def test_examples() -> None:
    assert redact_text("db-password=hunter2&x=1") == f"db-password={REDACTED}&x=1"
    assert (
        redact_text("see https://bob:pw@git.example/x") == f"see https://{REDACTED}@git.example/x"
    )
    assert redact_text("Authorization: Bearer abcdefgh12345") == f"Authorization: Bearer {REDACTED}"


HOSTILE = [  # expressions, built in the subprocess
    '"a-" * 500_000 + "="',  # the issue's `a-a-a-…` value, 1 MB
    '"a" * 1_000_000 + "://"',
    '"a://" * 250_000',
    '"a-token" * 150_000',
    '"-" * 1_000_000 + "token=x"',
]


@pytest.mark.timeout(120)
def test_hostile_megabyte_values_finish_within_a_budget() -> None:
    # Quadratic patterns need hours on a megabyte; linear passes need well under a second.
    # The subprocess's budget is what bounds the test, not a wall-clock assertion on speed.
    code = (
        "from godiag.toolchain.envsnapshot import redact_text\n"
        f"for t in [{', '.join(HOSTILE)}]:\n"
        "    redact_text(t)\n"
        "print('done')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "done"
