"""The one check for every ``next=`` target the portal redirects to: a path on this site, nothing else.

A browser reading a ``Location`` header first removes leading and trailing C0 control characters and
spaces, and then every tab, carriage return and line feed anywhere (WHATWG URL standard, "basic URL
parser"); it also reads a backslash as a slash in http(s) URLs. So ``/\\t/evil.example`` reaches it as
``//evil.example``: another site. The check therefore looks at the target the way a browser will, after
that same clean-up, and accepts only a relative path of this origin:

- it starts with exactly one ``/`` (not ``//``, which names another host, nor ``/\\``);
- ``urllib.parse`` finds no scheme and no host in it;
- no backslash and no other control character is left in it anywhere.

Anything else gives ``None`` and the caller uses its default. The returned value is the cleaned one, so
what the portal sends is what the browser follows.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_EDGE_STRIPPED = "".join(chr(c) for c in range(0x21))  # C0 controls and space, stripped at both ends
_REMOVED = str.maketrans("", "", "\t\n\r")  # removed anywhere
MAX_LENGTH = 2048


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F


def safe_target(value: object) -> str | None:
    """``value`` as a same-origin path to redirect to, or ``None`` when it is not one (see the module)."""
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        return None
    cleaned = value.strip(_EDGE_STRIPPED).translate(_REMOVED)
    if not cleaned.startswith("/") or cleaned.startswith(("//", "/\\")):
        return None
    if "\\" in cleaned or any(_is_control(char) for char in cleaned):
        return None
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    return cleaned
