"""The fixed demo logins (documented in the README): the same phones and roles in every region, and in each
region people and a unit of that region — 身份证 numbers with the region's division prefixes and valid check
digits, 户籍 in its districts, the unit's 统一社会信用代码 and address in its pooling area.

``DEMO_CITIZENS`` and ``DEMO_UNIT`` are the Jilin (长春) set, kept for code that names no region; the builders
and the ``portal up`` banner use ``demo_citizens(region)`` and ``demo_unit(region)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ...core.validators import credit_code_check_char, id_check_digit
from ..constants import HukouType, PersonCategory, UnitNature
from .codes import organisation_code


@dataclass(frozen=True)
class DemoCitizen:
    key: str
    name: str
    id_number: str
    phone: str
    gender: str
    birth_date: date
    category: PersonCategory
    insured_no: str
    hukou_division_code: str
    hukou_place: str
    hukou_type: HukouType
    description: str  # English, for the README and the ``portal up`` banner


@dataclass(frozen=True)
class DemoUnit:
    code: str
    credit_code: str
    name: str
    nature: UnitNature
    address: str
    division_code: str  # the county or district of its address
    district: str


DEMO_UNIT_AGENT_PHONE = "13800000009"
"""The phone of the demo unit's agent (单位经办人); the accounts feature creates that login."""

# key, phone, gender, birth date, category, sequence (odd for men), description
_PEOPLE = (
    ("employee", "13800000001", "M", date(1985, 3, 15), PersonCategory.EMPLOYEE, "123",
     "in-service employee of the demo unit, contributing monthly since 2008"),
    ("retiree", "13800000002", "F", date(1958, 6, 20), PersonCategory.RETIREE, "246",
     "retiree (retired 2013 from the demo unit), monthly account credits, chronic-disease recognition"),
    ("resident", "13800000003", "F", date(1992, 11, 8), PersonCategory.RESIDENT, "362",
     "urban-rural resident paying the annual resident contribution"),
    ("flexible", "13800000004", "M", date(1979, 9, 10), PersonCategory.FLEXIBLE, "157",
     "flexible worker paying employee insurance on his own, with one interruption"),
)


def id_number(area: str, birth: date, sequence: str) -> str:
    """A 身份证 number: area, birth date, sequence, and the GB 11643 check digit."""
    first17 = f"{area}{birth:%Y%m%d}{sequence}"
    return first17 + id_check_digit(first17)


def credit_code(area: str, body8: str) -> str:
    """An enterprise's 统一社会信用代码 (91 + area + 组织机构代码 + the GB 32100 check character)."""
    first17 = "91" + area + organisation_code(body8)
    return first17 + credit_code_check_char(first17)


def _citizens(names: tuple[str, str, str, str], places: tuple[tuple[str, str], ...],
              hukou: tuple[HukouType, ...] = (HukouType.URBAN, HukouType.URBAN, HukouType.RURAL, HukouType.URBAN),
              ) -> tuple[DemoCitizen, ...]:
    out = []
    for n, ((key, phone, gender, birth, category, seq, text), name, (area, place), kind) in enumerate(
            zip(_PEOPLE, names, places, hukou, strict=True), 1):
        out.append(DemoCitizen(key, name, id_number(area, birth, seq), phone, gender, birth, category,
                               f"DEMO{n:08d}", area, place, kind, text))
    return tuple(out)


@dataclass(frozen=True)
class DemoLogins:
    citizens: tuple[DemoCitizen, ...]
    unit: DemoUnit


LOGINS: dict[str, DemoLogins] = {
    "jilin": DemoLogins(
        _citizens(("张伟明", "李秀兰", "王小红", "刘建国"),
                  (("220102", "吉林省长春市南关区"), ("220104", "吉林省长春市朝阳区"),
                   ("220122", "吉林省长春市农安县"), ("220105", "吉林省长春市二道区"))),
        DemoUnit("DEMO000001", "91220100MA17DEM55F", "长春华宇信息技术有限公司", UnitNature.ENTERPRISE,
                 "吉林省长春市朝阳区人民大街1288号", "220104", "朝阳区"),
    ),
    "yueyang": DemoLogins(
        _citizens(("张伟明", "李秀兰", "彭小红", "刘建国"),
                  (("430602", "湖南省岳阳市岳阳楼区"), ("430603", "湖南省岳阳市云溪区"),
                   ("430621", "湖南省岳阳市岳阳县"), ("430611", "湖南省岳阳市君山区"))),
        DemoUnit("DEMO000001", credit_code("430602", "MA4DEM55"), "岳阳华宇信息技术有限公司",
                 UnitNature.ENTERPRISE, "湖南省岳阳市岳阳楼区建设路1288号", "430602", "岳阳楼区"),
    ),
    "linkou": DemoLogins(
        _citizens(("张伟明", "李秀兰", "王小红", "刘建国"),
                  (("231025", "黑龙江省牡丹江市林口县"), ("231025", "黑龙江省牡丹江市林口县"),
                   ("231025", "黑龙江省牡丹江市林口县"), ("231025", "黑龙江省牡丹江市林口县"))),
        DemoUnit("DEMO000001", credit_code("231025", "MA1DEM55"), "林口华宇信息技术有限公司",
                 UnitNature.ENTERPRISE, "黑龙江省牡丹江市林口县建设路128号", "231025", "林口县"),
    ),
    "sichuan": DemoLogins(
        _citizens(("张伟明", "李秀兰", "王小红", "刘建国"),
                  (("510104", "四川省成都市锦江区"), ("510107", "四川省成都市武侯区"),
                   ("510121", "四川省成都市金堂县"), ("510106", "四川省成都市金牛区"))),
        DemoUnit("DEMO000001", credit_code("510107", "MA6DEM55"), "成都华宇信息技术有限公司",
                 UnitNature.ENTERPRISE, "四川省成都市武侯区人民南路1288号", "510107", "武侯区"),
    ),
    "shangluo": DemoLogins(
        _citizens(("张伟明", "李秀兰", "王小红", "刘建国"),
                  (("611002", "陕西省商洛市商州区"), ("611002", "陕西省商洛市商州区"),
                   ("611021", "陕西省商洛市洛南县"), ("611024", "陕西省商洛市山阳县"))),
        DemoUnit("DEMO000001", credit_code("611002", "MA7DEM55"), "商洛华宇信息技术有限公司",
                 UnitNature.ENTERPRISE, "陕西省商洛市商州区北新街288号", "611002", "商州区"),
    ),
}


def demo_logins(region: str) -> DemoLogins:
    return LOGINS.get(region, LOGINS["jilin"])


def demo_citizens(region: str) -> tuple[DemoCitizen, ...]:
    return demo_logins(region).citizens


def demo_unit(region: str) -> DemoUnit:
    return demo_logins(region).unit


def all_demo_citizens() -> tuple[DemoCitizen, ...]:
    """Every region's demo citizens (what a log must never hold)."""
    return tuple(c for logins in LOGINS.values() for c in logins.citizens)


DEMO_CITIZENS: tuple[DemoCitizen, ...] = LOGINS["jilin"].citizens
DEMO_UNIT: DemoUnit = LOGINS["jilin"].unit
