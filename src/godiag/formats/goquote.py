"""Go string literals as strconv.QuotedPrefix/Unquote accept them (build-setting lines).

Works on bytes because `\\x` and octal escapes may produce bytes that are not UTF-8.
"""

from __future__ import annotations

SIMPLE = {
    ord("a"): b"\a",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("n"): b"\n",
    ord("r"): b"\r",
    ord("t"): b"\t",
    ord("v"): b"\v",
    ord("\\"): b"\\",
}
HEX = b"0123456789abcdefABCDEF"


def quoted_prefix(s: bytes) -> tuple[bytes, int] | None:
    """(value, consumed length) of the Go literal that starts `s`, or None if invalid."""
    if not s:
        return None
    quote = s[0]
    if quote == ord("`"):
        end = s.find(b"`", 1)
        if end < 0:
            return None
        return s[1:end].replace(b"\r", b""), end + 1
    if quote != ord('"'):
        return None
    out = bytearray()
    i = 1
    n = len(s)
    while i < n:
        c = s[i]
        if c == quote:
            return bytes(out), i + 1
        if c == ord("\n"):
            return None
        if c != ord("\\"):
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            return None
        e = s[i + 1]
        if e in SIMPLE:
            out += SIMPLE[e]
            i += 2
        elif e == ord('"'):
            out.append(e)
            i += 2
        elif e in (ord("x"), ord("u"), ord("U")):
            width = {ord("x"): 2, ord("u"): 4, ord("U"): 8}[e]
            digits = s[i + 2 : i + 2 + width]
            if len(digits) != width or any(d not in HEX for d in digits):
                return None
            v = int(digits, 16)
            if e == ord("x"):
                out.append(v)
            else:
                if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    return None
                out += chr(v).encode("utf-8")
            i += 2 + width
        elif ord("0") <= e <= ord("7"):
            digits = s[i + 1 : i + 4]
            if len(digits) != 3 or any(not ord("0") <= d <= ord("7") for d in digits):
                return None
            v = int(digits, 8)
            if v > 255:
                return None
            out.append(v)
            i += 4
        else:
            return None
    return None


def unquote(s: bytes) -> bytes | None:
    """strconv.Unquote: the whole of `s` must be one literal."""
    got = quoted_prefix(s)
    if got is None or got[1] != len(s):
        return None
    return got[0]
