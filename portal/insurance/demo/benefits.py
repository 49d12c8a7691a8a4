"""Demo benefit records (待遇资格): chronic-disease recognitions, maternity, 异地 filings, special drugs."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from ..constants import BenefitKind, BenefitStatus
from .common import BuilderState, local_time


class Benefits(BuilderState):
    """Adds benefit records."""

    def benefit(self, person: int, kind: BenefitKind, item: tuple[str, str] | None, start: date,
                until: date | None, status: BenefitStatus = BenefitStatus.ACTIVE, **detail: Any) -> None:
        if item:
            detail["name"] = item[1]
        self.plan.benefits.append({
            "person_id": person, "kind": kind, "item_code": item[0] if item else None, "status": status,
            "valid_from": start, "valid_until": until,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
            "created_at": local_time(start, 11),
        })
