"""The disease lists a 门诊慢特病 recognition offers (``data/catalogs.yaml``: each list with its source).

``diseases(region, item_code)`` is the item's own list where the data gives one (四川 SC23: the two diseases its
name names), else the region's. The form offers it as a searchable list in place of the published form's typed
disease box (``DISEASE_KEYS``), or as this service's field where the published form has none.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ...catalog.schema import Name

DATA = Path(__file__).with_name("data") / "catalogs.yaml"
DISEASE_KEYS = ("scope", "disease_name")  # the published forms' typed 申报保障范围 / 申报病种名称


@dataclass(frozen=True)
class DiseaseList:
    key: str
    source: Name
    url: str | None
    diseases: tuple[Name, ...]

    def names(self) -> list[str]:
        return [d.zh for d in self.diseases]


@cache
def _data() -> dict[str, Any]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


def _list(key: str) -> DiseaseList:
    raw = _data()["lists"][key]
    source = raw["source"]
    return DiseaseList(key, Name(zh=source["zh"], en=source["en"]), source.get("url"),
                       tuple(Name(zh=d["zh"], en=d["en"]) for d in raw["diseases"]))


def diseases(region: str, item_code: str) -> DiseaseList | None:
    data = _data()
    key = (data.get("items", {}).get(region) or {}).get(item_code) \
        or (data.get("regions", {}).get(region) or {}).get("chronic_diseases")
    return _list(key) if key else None


def all_lists() -> list[DiseaseList]:
    return [_list(key) for key in _data()["lists"]]
