"""Demo contributions (缴费): one row per person, scheme and month (or year for residents)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from ..constants import ContributionStatus, InsuranceType
from .common import BuilderState, local_time

if TYPE_CHECKING:
    from .units import UnitTraits


class Contributions(BuilderState):
    """Adds contribution rows, paid or in arrears."""

    def contribute(self, person: int, unit: UnitTraits | None, kind: InsuranceType, month: date, base: Decimal | None,
                   unit_amount: Decimal, personal_amount: Decimal, paid_on: date | None) -> None:
        self.plan.contributions.append({
            "person_id": person, "unit_id": unit.index if unit else None, "insurance_type": kind,
            "period_month": month, "base": base, "unit_amount": unit_amount, "personal_amount": personal_amount,
            "status": ContributionStatus.PAID if paid_on else ContributionStatus.ARREARS,
            "paid_at": local_time(paid_on) if paid_on else None,
        })
