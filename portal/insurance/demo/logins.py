"""The fixed demo logins (documented in the README): the same citizens and unit for every seed and region."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..constants import HukouType, PersonCategory, UnitNature


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


DEMO_UNIT = DemoUnit(
    code="DEMO000001",
    credit_code="91220100MA17DEM55F",
    name="长春华宇信息技术有限公司",
    nature=UnitNature.ENTERPRISE,
    address="吉林省长春市朝阳区人民大街1288号",
)
DEMO_UNIT_AGENT_PHONE = "13800000009"
"""The phone of the DEMO_UNIT's agent (单位经办人); the accounts feature creates that login."""

DEMO_CITIZENS: tuple[DemoCitizen, ...] = (
    DemoCitizen(
        "employee", "张伟明", "220102198503151237", "13800000001", "M", date(1985, 3, 15),
        PersonCategory.EMPLOYEE, "DEMO00000001", "220102", "吉林省长春市南关区", HukouType.URBAN,
        "in-service employee of the demo unit, contributing monthly since 2008",
    ),
    DemoCitizen(
        "retiree", "李秀兰", "220104195806202467", "13800000002", "F", date(1958, 6, 20),
        PersonCategory.RETIREE, "DEMO00000002", "220104", "吉林省长春市朝阳区", HukouType.URBAN,
        "retiree (retired 2013 from the demo unit), monthly account credits, chronic-disease recognition",
    ),
    DemoCitizen(
        "resident", "王小红", "220122199211083623", "13800000003", "F", date(1992, 11, 8),
        PersonCategory.RESIDENT, "DEMO00000003", "220122", "吉林省长春市农安县", HukouType.RURAL,
        "urban-rural resident paying the annual resident contribution",
    ),
    DemoCitizen(
        "flexible", "刘建国", "220105197909101576", "13800000004", "M", date(1979, 9, 10),
        PersonCategory.FLEXIBLE, "DEMO00000004", "220105", "吉林省长春市二道区", HukouType.URBAN,
        "flexible worker paying employee insurance on his own, with one interruption",
    ),
)
