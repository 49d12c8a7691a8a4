"""Demo institutions (定点医药机构) of the region, for ``portal demo`` and ``portal up``: a handful per region, each
named 演示… and flagged ``is_demo`` (the public list tags them "demo"), with national codes of the right shape on the
region's districts. One of each agreement standing the list shows (in force, suspended) and one that is not listed
(ended), so the list's rules can be seen. The first has a demo agent (``DEMO_INSTITUTION_AGENT_PHONE``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ..core.db import db
from ..core.validators import credit_code_check_char
from .models import AgreementStatus, Institution, InstitutionKind, InstitutionLevel

DEMO_INSTITUTION_AGENT_PHONE = "13800000019"
# (name after the city's short name, kind, level, district index, status, remote settlement)
DEMO_INSTITUTIONS = (
    ("演示第一医院", InstitutionKind.MEDICAL, InstitutionLevel.THIRD, 0, AgreementStatus.IN_FORCE, True),
    ("演示中医院", InstitutionKind.MEDICAL, InstitutionLevel.SECOND, 1, AgreementStatus.IN_FORCE, False),
    ("演示社区卫生服务中心", InstitutionKind.MEDICAL, InstitutionLevel.FIRST, 2, AgreementStatus.IN_FORCE, False),
    ("演示口腔诊所", InstitutionKind.MEDICAL, InstitutionLevel.UNRATED, 0, AgreementStatus.SUSPENDED, False),
    ("演示大药房", InstitutionKind.PHARMACY, None, 1, AgreementStatus.IN_FORCE, False),
    ("演示平价药店", InstitutionKind.PHARMACY, None, 2, AgreementStatus.TERMINATED, False),
)


def _credit_code(area: str, n: int, kind: InstitutionKind = InstitutionKind.MEDICAL) -> str:
    """A 统一社会信用代码 of the GB 32100 shape: 12 (事业单位) for a hospital, 91 (企业) for a pharmacy."""
    from ..insurance.demo import organisation_code

    first17 = ("12" if kind is InstitutionKind.MEDICAL else "91") + area + organisation_code(f"DEMA{n:04d}")
    return first17 + credit_code_check_char(first17)


def ensure_demo_institutions(region: str) -> list[str]:
    """Create the region's demo institutions that do not exist yet; returns their names."""
    from ..insurance.demo import demo_region

    demo = demo_region(region)
    made = []
    for n, (name, kind, level, district, status, remote) in enumerate(DEMO_INSTITUTIONS, start=1):
        area_code, area = demo.districts[district % len(demo.districts)]
        credit_code = _credit_code(area_code, n, kind)
        if db.session.execute(select(Institution.id).where(Institution.credit_code == credit_code)).first():
            continue
        letter = "H" if kind is InstitutionKind.MEDICAL else "P"
        institution = Institution(
            credit_code=credit_code, code=f"{letter}{area_code}{90000 + n:05d}", name=f"{demo.short}{name}",
            kind=kind.value, level=level.value if level else None, region=region, area=area,
            address=f"{demo.city}{area}演示路{n}号", legal_rep_name="演示法人", scope=None,
            agreement_status=status.value, agreement_start=date(2026, 1, 1), agreement_end=date(2028, 12, 31),
            suspended_on=date(2026, 11, 1) if status is AgreementStatus.SUSPENDED else None,
            terminated_on=date(2026, 10, 1) if status is AgreementStatus.TERMINATED else None,
            remote_settlement=remote, is_demo=True)
        db.session.add(institution)
        made.append(institution.name)
    db.session.flush()
    return made


def ensure_demo_institution_agent(region: str) -> str | None:
    """The demo agent (administrator) of the region's first demo institution; its name when made now."""
    from ..accounts import operations
    from ..accounts.models import Account
    from ..core.audit import Actor
    from ..insurance.demo import demo_region
    from .models import ProofMethod

    demo = demo_region(region)
    first = db.session.execute(select(Institution).where(
        Institution.credit_code == _credit_code(demo.districts[0][0], 1))).scalar_one_or_none()
    if first is None or db.session.execute(select(Account.id).where(Account.institution_id == first.id,
                                                                    Account.is_unit_admin)).first():
        return None
    operations.register_first_agent(first, operations.NewAgent(DEMO_INSTITUTION_AGENT_PHONE, "机构经办人（演示）"),
                                    actor=Actor.system(), proof=ProofMethod.DEMO)
    return first.name
