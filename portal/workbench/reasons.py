"""Reason templates for decisions, per item with region and portal-wide defaults (``data/reasons.yaml``).

The texts are what the applicant reads, so they are data in Chinese, like the catalog; a region overrides
the defaults, an item overrides its region. Staff pick a template and may edit it before deciding.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data" / "reasons.yaml"
ACTIONS = ("refuse", "deny", "request_correction", "approve", "complete")


@cache
def _load(path: Path = DATA) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    for action in data.get("defaults", {}):
        if action not in ACTIONS:
            raise ValueError(f"{path}: unknown action {action!r} in defaults")
    return data


def templates(region: str, item_code: str, action: str, *, data: dict[str, Any] | None = None) -> list[str]:
    """The templates for ``action`` on ``item_code`` in ``region``: the most specific list that exists."""
    data = data if data is not None else _load()
    region_data = (data.get("regions") or {}).get(region) or {}
    for source in (((region_data.get("items") or {}).get(item_code) or {}), region_data.get("defaults") or {},
                   data.get("defaults") or {}):
        if source.get(action):
            return [str(t) for t in source[action]]
    return []
