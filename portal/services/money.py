"""Items that pay money to the applicant after approval: they pass through 拨付 (``paying``) before 办结.

Withdrawals from the personal account, manual reimbursement (零星报销), maternity benefits and
allowances, medical-aid payments, long-term-care payments and settlements with designated
institutions. Their specific rules land with their own features; what they share is the payment step
and the separation of duties around it (the acceptor of a money item cannot approve it, S7).
"""

from __future__ import annotations

from .base import Handler, register


@register(
    "account.withdrawal",
    "reimbursement.manual",
    "maternity.benefit",
    "maternity.allowance",
    "maternity.payment",
    "maternity.remote",
    "medical_aid.reimbursement",
    "medical_aid.payment",
    "long_term_care.payment",
    "institution.settlement",
    "institution.remote_settlement",
)
class MoneyItem(Handler):
    name = "money"
    is_money = True
