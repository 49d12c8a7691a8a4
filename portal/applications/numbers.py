"""受理编号: the number printed on receipts.

Format: two letters for the region, the local submission date, and six characters drawn at random from
an alphabet without look-alikes (no 0/O, 1/I/L)::

    JL 20261122 K7M3QX   → printed JL20261122K7M3QX (16 characters)

Random, not sequential, so a number tells nobody how many cases the agency receives, and guessing one
is useless without the applicant's 身份证 digits and an SMS code. The completion slip's 办理编号 is the
same number. Masked for public pages as ``JL20261122****QX``.
"""

from __future__ import annotations

import re
import secrets
from datetime import date

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REGION_PREFIX = {"jilin": "JL", "yueyang": "YY", "linkou": "LK", "sichuan": "SC", "shangluo": "SL"}
NUMBER_RE = re.compile(rf"^[A-Z]{{2}}\d{{8}}[{ALPHABET}]{{6}}$")


def new_number(region: str, day: date) -> str:
    prefix = REGION_PREFIX.get(region, region[:2].upper())
    return prefix + day.strftime("%Y%m%d") + "".join(secrets.choice(ALPHABET) for _ in range(6))


def normalise(raw: str) -> str:
    """A number as typed (spaces, lower case, full-width characters) in its printed form."""
    import unicodedata

    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw or "")).upper()


def is_valid(number: str) -> bool:
    return bool(NUMBER_RE.match(number))


def mask(number: str | None) -> str:
    if not number:
        return ""
    return number[:10] + "****" + number[-2:]
