"""The 长期护理保险日常生活活动能力评定量表 as data (``data/adl_scale.yaml``, each part with its source): its items
and their published score steps, the total, and the 失能等级 the total falls in.

Pure functions (no database, no request). ``assess`` takes one score per item, refuses a missing item or a score
the item does not publish (every problem at once, at the item's field), and gives the total and the band.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ...core.errors import ValidationFailed
from ...core.translation import gettext as _

SCALE_FILE = Path(__file__).with_name("data") / "adl_scale.yaml"


@dataclass(frozen=True)
class ScaleItem:
    key: str
    zh: str
    en: str
    scores: tuple[int, ...]

    def label(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.zh


@dataclass(frozen=True)
class Band:
    """A 失能等级: the totals from ``low`` to ``high`` (both included)."""

    key: str
    low: int
    high: int
    zh: str
    en: str
    standard: str  # the national standard's own word for the band (WS/T 431—2013)

    def label(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.zh


@dataclass(frozen=True)
class Scale:
    items: tuple[ScaleItem, ...]
    bands: tuple[Band, ...]
    source_items: str
    source_bands: str
    bands_are_seed: bool

    @property
    def maximum(self) -> int:
        return sum(max(i.scores) for i in self.items)

    def band_of(self, total: int) -> Band:
        return next(b for b in self.bands if b.low <= total <= b.high)

    def band_named(self, zh: str | None) -> Band | None:
        """The band whose Chinese name is ``zh`` (a benefit record keeps the name), if any."""
        return next((b for b in self.bands if b.zh == zh), None)


@dataclass(frozen=True)
class Assessment:
    scores: dict[str, int]
    total: int
    band: Band


def _check(scale: Scale) -> Scale:
    """The data holds together: unique items, bands that cover 0..maximum once each, in order."""
    keys = [i.key for i in scale.items]
    if len(set(keys)) != len(keys) or any(not i.scores or list(i.scores) != sorted(set(i.scores))
                                          for i in scale.items):
        raise ValueError(f"{SCALE_FILE}: items must be unique, each with rising scores")
    expected = 0
    for band in scale.bands:
        if band.low != expected or band.high < band.low:
            raise ValueError(f"{SCALE_FILE}: band {band.key} must start at {expected}")
        expected = band.high + 1
    if expected != scale.maximum + 1:
        raise ValueError(f"{SCALE_FILE}: the bands must end at the maximum total {scale.maximum}")
    return scale


@cache
def scale() -> Scale:
    raw: dict[str, Any] = yaml.safe_load(SCALE_FILE.read_text(encoding="utf-8"))
    return _check(Scale(
        items=tuple(ScaleItem(i["key"], i["zh"], i["en"], tuple(int(s) for s in i["scores"])) for i in raw["items"]),
        bands=tuple(Band(b["key"], int(b["min"]), int(b["max"]), b["zh"], b["en"], b["standard"])
                    for b in raw["bands"]),
        source_items=raw["source"]["items"], source_bands=raw["source"]["bands"],
        bands_are_seed=bool(raw["source"]["bands_are_seed"]),
    ))


def assess(raw_scores: dict[str, Any]) -> Assessment:
    """Total and band of one score per item; ValidationFailed naming each item missing or with a score it lacks."""
    the_scale = scale()
    reasons: list[tuple[str | None, str]] = []
    scores: dict[str, int] = {}
    for item in the_scale.items:
        raw = raw_scores.get(item.key)
        text = str(raw).strip() if raw is not None else ""
        if not text:
            reasons.append((item.key, _("Score “%(item)s”.", item=item.zh)))
            continue
        if not text.isdigit() or int(text) not in item.scores:
            reasons.append((item.key, _("“%(item)s” is scored %(steps)s.", item=item.zh,
                                        steps="、".join(str(s) for s in item.scores))))
            continue
        scores[item.key] = int(text)
    if reasons:
        raise ValidationFailed(reasons)
    total = sum(scores.values())
    return Assessment(scores, total, the_scale.band_of(total))
