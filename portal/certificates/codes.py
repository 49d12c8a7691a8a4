"""Verification codes printed on certificates.

16 characters drawn with ``secrets`` from the receipts' alphabet without look-alikes (no 0/O, 1/I/L; 31
symbols): 16 × log2(31) ≈ 79 bits, well above the 60 the security requirements ask for, so guessing one is
hopeless even without the rate limit. Printed in four groups of four (``K7M3-QX9A-…``) for reading aloud and
typing; typed codes are accepted with any spacing, hyphens, lower case or full-width characters. The
database keeps the code sealed and a keyed blind index for the lookup.
"""

from __future__ import annotations

import math
import re
import secrets

from ..applications.numbers import ALPHABET
from ..applications.numbers import normalise as _normalise
from ..core.crypto import blind_index

LENGTH = 16
GROUP = 4
BITS = LENGTH * math.log2(len(ALPHABET))
CODE_RE = re.compile(rf"^[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    """A fresh code in its compact form (no separators)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """``K7M3QX9A…`` → ``K7M3-QX9A-…``, as printed."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalise(raw: str | None) -> str | None:
    """The compact code from what someone typed, or None when it cannot be one."""
    compact = _normalise(raw or "")
    return compact if CODE_RE.match(compact) else None


def code_index(code: str) -> str:
    return blind_index(code, "certificate_code")
