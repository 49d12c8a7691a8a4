"""Check characters of the demo's organisation codes (the 身份证 and 统一社会信用代码 checks are in core.validators)."""

from __future__ import annotations


def organisation_code(body8: str) -> str:
    """An 组织机构代码 (GB 11714): 8 characters and a check character (weights 3 7 9 10 5 8 4 2, mod 11)."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body8, weights, strict=True))
    check = 11 - total % 11
    return body8 + {10: "X", 11: "0"}.get(check, str(check))
