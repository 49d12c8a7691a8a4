"""A local bank for development and tests: it reads a batch file as a bank would and answers with a return file.

Every line is paid, except lines whose account fails the card check digit or that the caller names in ``fail``
(an account closed at the bank, say); each paid line gets a reference. It speaks the same files as a real bank
(the layout's own reader and writer), so the portal's import is tested on what it will receive.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from . import TRAILER, BankFiles, ReturnLine


def answer(layout: BankFiles, batch_file: bytes, *, fail: dict[str, str] | None = None) -> bytes:
    """The return file for ``batch_file``; ``fail`` maps line ids to the bank's reason."""
    fail = fail or {}
    rows = layout.read_batch(batch_file)
    lines, names = [], {}
    for row in rows[1:]:
        if not row or row[0] == TRAILER:
            continue
        line_id, name, account, amount = row[0], row[1], row[2], Decimal(row[4])
        names[line_id] = (name, account)
        reason = fail.get(line_id) or ("" if _luhn_ok(account) else "账号不存在")
        reference = "" if reason else "B" + hashlib.sha256(f"{line_id}:{account}".encode()).hexdigest()[:15].upper()
        lines.append(ReturnLine(line_id, amount, not reason, reference, reason))
    return layout.write_return(lines, names)


def _luhn_ok(account: str) -> bool:
    """A 16–19 digit card number whose check digit fails is an account the bank does not know."""
    if not (account.isdigit() and 16 <= len(account) <= 19):
        return True
    digits = [int(c) for c in reversed(account)]
    return sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits)) % 10 == 0
