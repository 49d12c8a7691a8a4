"""The settlement declaration (结算申报) of a designated institution: what it declares for a period, as filed.

One row per case, written at submission and rewritten at each resubmission from the form. The money the agency pays
is the case's ``Claim`` of kind ``settlement`` (``services.claims``): the declared amount is its computed amount, the
reviewer's amount (and the reason when it differs) its decided amount, and its ``Payment`` goes into the payment
batches with claims. Money is ``Numeric(14, 2)`` yuan; the database keeps the parts summing to the total and nothing
negative (CHECK), so no declaration that does not add up is ever stored.

``live_key`` (institution, item, period, 险种) is set while the case stands and cleared when it is withdrawn, not
accepted or denied: the unique index refuses a second standing declaration of the same institution, item, period and
险种 even when two are submitted at the same moment, while a refused one may be filed again.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ...core import clock
from ...core.db import Base
from ...insurance.models import Money


class SettlementDeclaration(Base):
    __tablename__ = "settlement_declaration"
    __table_args__ = (
        CheckConstraint("total_cost >= 0 AND fund_paid >= 0 AND account_paid >= 0 AND self_paid >= 0 "
                        "AND deducted >= 0 AND visits >= 0", name="not_negative"),
        CheckConstraint("total_cost = fund_paid + account_paid + self_paid", name="parts_sum_to_total"),
        CheckConstraint("deducted < fund_paid + account_paid", name="something_to_pay"),
        CheckConstraint("period_kind IN ('month', 'year')", name="period_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), unique=True)
    organisation: Mapped[str] = mapped_column(String(40), index=True)  # the institution, see operations.org_key
    item_code: Mapped[str] = mapped_column(String(40))
    period_kind: Mapped[str] = mapped_column(String(8))  # month (YYYY-MM) or year (YYYY)
    period: Mapped[str] = mapped_column(String(7))
    category: Mapped[str] = mapped_column(String(24))  # 险种 as the form's option says it (Chinese)
    total_cost: Mapped[Decimal] = mapped_column(Money)  # 医疗总费用
    fund_paid: Mapped[Decimal] = mapped_column(Money)  # 统筹基金支付
    account_paid: Mapped[Decimal] = mapped_column(Money)  # 个人账户支付
    self_paid: Mapped[Decimal] = mapped_column(Money)  # 个人自付（现金）
    deducted: Mapped[Decimal] = mapped_column(Money)  # 拒付/扣款
    visits: Mapped[int] = mapped_column(Integer)  # 结算人次
    live_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)

    @property
    def payable(self) -> Decimal:
        """申请拨付金额: what the fund owes the institution (统筹基金 + 个人账户 it advanced, less 拒付/扣款)."""
        return self.fund_paid + self.account_paid - self.deducted
