"""The institution register (定点医药机构): codes, lookups, labels, and the history every change leaves.

The national 医保定点医药机构编码 has 12 characters: ``H`` (医疗机构) or ``P`` (零售药店), the 6-digit 行政区划 code of
where it is, and a 5-digit number (the 医保信息业务编码 standard). An institution logs in and registers by its
统一社会信用代码 or by this code. Changes to the register go through ``changed`` so the history says what changed,
from when and by which case; the agreement items' handlers (``portal.services.institutions``) call it.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from sqlalchemy import or_, select

from ..core import clock
from ..core.db import db
from ..core.errors import ValidationFailed
from ..core.translation import gettext as _
from ..core.translation import lazy_gettext as _l
from ..core.validators import check_credit_code
from .models import (
    INSTITUTION_CODE_LETTER,
    AgreementStatus,
    Institution,
    InstitutionEvent,
    InstitutionKind,
    InstitutionLevel,
)

CODE_RE = re.compile(r"^[HP]\d{11}$")

KIND_LABELS = {InstitutionKind.MEDICAL: _l("Medical institution"), InstitutionKind.PHARMACY: _l("Retail pharmacy")}
LEVEL_LABELS = {
    InstitutionLevel.FIRST: _l("Level 1"),
    InstitutionLevel.SECOND: _l("Level 2"),
    InstitutionLevel.THIRD: _l("Level 3"),
    InstitutionLevel.UNRATED: _l("Not graded"),
}
STATUS_LABELS = {
    AgreementStatus.NONE: _l("Not designated"),
    AgreementStatus.APPLYING: _l("Applying for the agreement"),
    AgreementStatus.IN_FORCE: _l("Agreement in force"),
    AgreementStatus.SUSPENDED: _l("Agreement suspended"),
    AgreementStatus.TERMINATED: _l("Agreement ended"),
}
# The fields a change records in the clear (sealed ones only say that they changed)
SEALED_FIELDS = frozenset({"legal_rep_id_number"})


def check_institution_code(raw: Any, kind: str | None = None) -> str:
    """The upper-cased 医保定点医药机构编码; ValidationFailed when its shape is wrong or its letter is not the
    kind's."""
    code = "".join(str(raw or "").split()).upper()
    if not CODE_RE.match(code):
        raise ValidationFailed([(None, _("A designated institution code has 12 characters: H (medical institution) "
                                         "or P (pharmacy), then 11 digits, e.g. H22010200001."))])
    if kind is not None and code[0] != INSTITUTION_CODE_LETTER[InstitutionKind(kind)]:
        raise ValidationFailed([(None, _("This code is of a %(other)s; check the kind of institution or the code.",
                                         other=KIND_LABELS[InstitutionKind.MEDICAL if code[0] == "H"
                                                           else InstitutionKind.PHARMACY]))])
    return code


def normalised_org_code(raw: Any) -> tuple[str, str]:
    """An institution's identifier as typed: ('credit_code', code) or ('code', code); ValidationFailed when it is
    neither shape."""
    compact = "".join(str(raw or "").split()).upper()
    if len(compact) == 12:
        return "code", check_institution_code(compact)
    return "credit_code", check_credit_code(compact).code


def institution_by_code(raw: Any) -> Institution | None:
    """The institution of a 统一社会信用代码 or a 医保机构编码 (raises ValidationFailed on a malformed one)."""
    column, code = normalised_org_code(raw)
    where = Institution.code == code if column == "code" else Institution.credit_code == code
    return db.session.execute(select(Institution).where(where)).scalar_one_or_none()


def find(credit_code: str, code: str | None = None) -> Institution | None:
    """The institution with this credit code (or this national code)."""
    conditions = [Institution.credit_code == credit_code] + ([Institution.code == code] if code else [])
    return db.session.execute(select(Institution).where(or_(*conditions)).limit(1)).scalar_one_or_none()


def _shown(key: str, value: Any) -> Any:
    if key in SEALED_FIELDS:
        return "changed" if value else None
    return value.isoformat() if isinstance(value, date) else value


def history_event(institution: Institution, kind: str, changes: dict[str, tuple[Any, Any]], *,
                  effective_on: date | None = None, case: Any = None) -> InstitutionEvent:
    """Record one change of the register (``changes``: field → (before, after)); sealed fields are not copied."""
    event = InstitutionEvent(
        institution_id=institution.id, kind=kind, effective_on=effective_on or clock.today(),
        changes_json=json.dumps({k: [_shown(k, a), _shown(k, b)] for k, (a, b) in changes.items()},
                                ensure_ascii=False),
        application_id=getattr(case, "id", None), at=clock.now())
    db.session.add(event)
    return event
