"""What happens to a claim along its case: computed when filed, decided by the reviewer, paid by finance.

- At submission and at every resubmission the claim is (re)computed from the form and the policy in force on
  the day of care, and its invoice numbers are recorded (``record_claim``).
- The reviewer approves with an amount (``decide_amount``): the computed one, or another with a reason; both
  are kept. Approval without an amount is refused, and so is an amount over what the year's cap has left after the
  person's other approved or paid claims, and the other checks of ``approval``.
- Starting payment creates the ``Payment``, with the payee sealed as the form gave it.
- Completion needs the payment paid: by finance confirming it (``confirm_paid``), or from the bank's return
  file (``portal.services.claims.batches``). The claimant is told the amount paid.

Like every operation these flush and never commit; each writes its audit row.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from flask_babel import format_currency
from sqlalchemy import select

from ...applications.constants import Action, State
from ...applications.models import Application
from ...core import clock
from ...core.audit import Actor, record
from ...core.db import db
from ...core.errors import InvalidTransition, ValidationFailed
from ...core.formatting import local_date
from ...core.translation import gettext as _
from . import calculation
from .approval import (
    approved_unpaid,
    cap_of,
    cap_used,
    check_invoices_paid_once,
    check_within_balance,
    check_within_cap,
    invoices_elsewhere,
)
from .constants import PAYMENT_LABELS
from .forms import AREA_VALUES, LEVEL_VALUES
from .kinds import ClaimKind, kind_of, role_key, scheme_of
from .models import Claim, ClaimInvoice, Payment
from .policy import policy_on
from .rules import _date, _invoice_number, care_date, missed_deadline

DEAD_STATES = (State.WITHDRAWN.value, State.NOT_ACCEPTED.value, State.DENIED.value)


def _item(case: Application) -> Any:
    return current_app.extensions["portal_catalog"].get(case.item_code)


def claim_of(case: Application) -> Claim | None:
    return db.session.execute(select(Claim).where(Claim.application_id == case.id)).scalar_one_or_none()


def claimed_elsewhere(numbers: list[str], case: Application | None) -> set[str]:
    """Which of these invoice numbers another case still standing (not withdrawn, refused or denied) claims."""
    if not numbers:
        return set()
    query = (select(ClaimInvoice.number).join(Claim).join(Application, Application.id == Claim.application_id)
             .where(ClaimInvoice.number.in_(numbers), Application.state.not_in(DEAD_STATES)))
    if case is not None and case.id is not None:
        query = query.where(Claim.application_id != case.id)
    return set(db.session.execute(query).scalars())


def duplicates(claim: Claim) -> dict[str, list[str]]:
    """For staff: each invoice number of this claim that other standing cases also claim, with their numbers."""
    numbers = [i.number for i in claim.invoices]
    if not numbers:
        return {}
    out: dict[str, list[str]] = {}
    for invoice, case_number in invoices_elsewhere(claim, numbers, Application.state.not_in(DEAD_STATES)):
        out.setdefault(invoice, []).append(case_number)
    return out


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value or "0"))
    except InvalidOperation:
        return Decimal("0")


def invoices_of(data: dict[str, Any]) -> list[calculation.Invoice]:
    out = []
    for row in data.get("invoices") or []:
        number = _invoice_number(row.get("number"))
        if number:
            issued = _date(row.get("issued_on")) or clock.today()
            out.append(calculation.Invoice(number, issued, _money(row.get("total")), _money(row.get("self_pay")),
                                           _money(row.get("self_funded"))))
    return out


def compute(case: Application, claim: Claim | None = None) -> tuple[calculation.Calculation, dict[str, Any]]:
    """The calculation for the case as filed, and what it was computed on (scheme, year, policy version)."""
    item = _item(case)
    kind = kind_of(item)
    data = case.form_data
    from ..base import FilingContext

    context = FilingContext(item=item, person=case.person, unit=case.unit, data=data, case=case)
    rule = next((r for r in item.rules if r.key == "claim_deadline"), None)
    day = care_date(context, rule.params if rule else {}) or _date(data.get("delivery_date")) or clock.today()
    policy = policy_on(case.region, day)
    facts: dict[str, Any] = {"year": day.year, "scheme": None, "policy": policy.ref}
    if kind is ClaimKind.REIMBURSEMENT and item.handler == CARE_PAYMENT:
        return _care_claim(case, day, policy, facts, claim)
    if kind is ClaimKind.REIMBURSEMENT:
        scheme = scheme_of(item, case.person)
        area = AREA_VALUES.get(data.get("care_area"), "in_area")
        level = LEVEL_VALUES.get(data.get("hospital_level"), "3")
        facts["scheme"] = scheme
        used = cap_used(case.person_id, day.year, scheme, excluding=claim.id if claim else None)
        return calculation.reimbursement(invoices_of(data), policy.reimbursement[(scheme, area)], level,
                                         used_this_year=used), facts
    if kind is ClaimKind.ALLOWANCE and data.get("unit_average_wage"):
        babies = int(_money(data.get("babies") or 1)) or 1
        return calculation.maternity_allowance(_money(data["unit_average_wage"]), policy.allowance,
                                               difficult_birth=data.get("dystocia") == "是", babies=babies), facts
    if kind is ClaimKind.WITHDRAWAL:
        account = getattr(case.person, "account", None)
        facts["year"] = clock.today().year
        return calculation.withdrawal(account.balance if account is not None else Decimal("0")), facts
    return calculation.no_rule(), facts


CARE_PAYMENT = "long_term_care.payment"
CARE_SCHEME = "long_term_care"  # the cap of 长护 claims is counted apart from the medical schemes'


def _care_claim(case: Application, day: Any, policy: Any, facts: dict[str, Any], claim: Claim | None,
                ) -> tuple[calculation.Calculation, dict[str, Any]]:
    """长护费用 零星报销: the rate and cap of the 失能等级 the person's 长期护理 record holds on the day of care;
    without a level in force (or a rate for it) no rule applies and the reviewer sets the amount."""
    from ..long_term_care import level_on

    facts["scheme"] = CARE_SCHEME
    band = level_on(case.person_id, day)
    rule = policy.care.get(band.key) if band is not None else None
    if rule is None:
        return calculation.no_rule(), facts
    used = cap_used(case.person_id, day.year, CARE_SCHEME, excluding=claim.id if claim else None)
    return calculation.care_reimbursement(invoices_of(case.form_data), rule, band.zh, used_this_year=used), facts


def record_claim(case: Application) -> Claim | None:
    """Compute the claim of a filed case and record its invoices; None for an item that is not a claim."""
    item = _item(case)
    kind = kind_of(item) if item is not None else None
    if kind is None:
        return None
    claim = claim_of(case) or Claim(application_id=case.id, kind=kind.value)
    db.session.add(claim)
    db.session.flush()
    result, facts = compute(case, claim)
    claim.person_id, claim.benefit_year, claim.scheme = case.person_id, facts["year"], facts["scheme"]
    claim.computed_amount = result.amount
    claim.working_json = _json([line.to_json() for line in result.lines])
    claim.policy_ref, claim.computed_at = facts["policy"], clock.now()
    claim.invoices = [ClaimInvoice(number=i.number, issued_on=i.issued_on, total=i.total)
                      for i in invoices_of(case.form_data)]
    if claim.late_accepted_at is None:  # an acceptance for force majeure stands; otherwise as filed today
        missed = missed_deadline(_context(case))
        claim.late_deadline = missed[0] if missed else None
        claim.late_reason = (str(case.form_data.get("late_reason") or "").strip() or None) if missed else None
    db.session.flush()
    return claim


def _context(case: Application) -> Any:
    from ..base import FilingContext

    return FilingContext(item=_item(case), person=case.person, unit=case.unit, data=case.form_data, case=case)


def is_late(case: Application) -> bool:
    """A claim filed after the seed's deadline that nobody has accepted yet."""
    claim = claim_of(case)
    return claim is not None and claim.late_deadline is not None and claim.late_accepted_at is None


def accept_late(case: Application, reason: str, *, by: Any, actor: Actor) -> Claim:
    """The acceptor takes a late claim for force majeure (不可抗力), saying why: kept, audited, shown on the case
    to staff and to the claimant. Called as the case is accepted; without a reason the acceptance is refused."""
    claim = claim_of(case)
    if claim is None or claim.late_deadline is None:
        raise InvalidTransition(_("This claim was filed in time."))
    reason = (reason or "").strip()[:2000]
    if not reason:
        raise ValidationFailed([("reason", _("This claim was filed after its deadline (%(date)s). To accept it, "
                                             "record the force majeure (不可抗力) that kept the claimant from filing "
                                             "in time.", date=local_date(claim.late_deadline)))])
    claim.late_accepted_reason, claim.late_accepted_by_id, claim.late_accepted_at = reason, by.id, clock.now()
    db.session.flush()
    record("claim.late_accepted", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "deadline": claim.late_deadline.isoformat()})
    return claim


def prefill_invoice(case: Application, invoice: dict[str, str]) -> int | None:
    """An uploaded e-receipt's invoice put into the draft's invoice rows, for the claimant to check: into the first
    empty row, else a new one. Returns the row's number; an invoice already listed keeps its row (and its number
    is returned), and None when the form has no invoice rows or they are full."""
    from .forms import INVOICES, MAX_INVOICES

    data = case.form_data
    if "invoices" not in {s.key for s in claim_specs_of(case)}:
        return None
    rows = [dict(r) if isinstance(r, dict) else {} for r in data.get("invoices") or []]
    number = _invoice_number(invoice.get("number"))
    for index, row in enumerate(rows, start=1):
        if _invoice_number(row.get("number")) == number:
            return index
    values = {c.key: invoice.get(c.key) for c in INVOICES.columns}
    empty = next((i for i, r in enumerate(rows) if not any(v not in (None, "") for v in r.values())), None)
    if empty is None:
        if len(rows) >= MAX_INVOICES:
            return None
        rows.append(values)
        empty = len(rows) - 1
    else:
        rows[empty] = values
    case.form_data = {**data, "invoices": rows}
    return empty + 1


def claim_specs_of(case: Application) -> list[Any]:
    from .forms import claim_specs

    return claim_specs(_item(case), case.audience) or []


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def parse_amount(raw: Any) -> Decimal:
    """A yuan amount as typed by staff (commas allowed), with at most two places and more than zero."""
    text = str(raw or "").strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed([("amount", _("Enter the amount in yuan, such as 1234.50."))]) from None
    if not amount.is_finite() or amount != amount.quantize(calculation.FEN):
        raise ValidationFailed([("amount", _("Enter the amount in yuan, such as 1234.50."))])
    if amount <= 0:
        raise ValidationFailed([("amount", _("An amount of zero is not paid: deny the claim with the reason "
                                             "instead."))])
    if amount > Decimal("100000000"):
        raise ValidationFailed([("amount", _("This amount is too large."))])
    return amount


def decide_amount(case: Application, raw_amount: Any, reason: str, *, by: Any, actor: Actor) -> Claim:
    """The reviewer's amount, taken as the claim is approved: the computed one, or another with the reason."""
    claim = claim_of(case) or record_claim(case)
    if claim is None:
        raise InvalidTransition(_("This item pays no claim."))
    amount = parse_amount(raw_amount if str(raw_amount or "").strip() else claim.computed_amount)
    reason = (reason or "").strip()[:2000]
    if claim.computed_amount is not None and amount != claim.computed_amount and not reason:
        raise ValidationFailed([("amount_reason", _("Say why the amount differs from the computed %(amount)s.",
                                                    amount=format_currency(claim.computed_amount, "CNY")))])
    claim.decided_amount, claim.adjust_reason = amount, reason or None
    claim.decided_by_id, claim.decided_at = by.id, clock.now()
    db.session.flush()
    record("claim.decide_amount", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "computed": str(claim.computed_amount), "decided": str(amount),
                   "adjusted": claim.computed_amount is not None and amount != claim.computed_amount})
    return claim


def reopen_amount(case: Application, claim: Claim, *, actor: Actor) -> None:
    """The approval went back to review before its payment started: the amount is decided again at the next
    approval, and until then it holds nothing against the cap or the balance (the old one stays in the audit)."""
    if claim.payment is not None:
        raise InvalidTransition(_("This claim's payment has started: it can no longer go back to review."))
    record("claim.amount_reopened", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "decided": str(claim.decided_amount)})
    claim.decided_amount, claim.adjust_reason, claim.decided_by_id, claim.decided_at = None, None, None, None
    db.session.flush()


def approve_amount(case: Application, *, by: Any, actor: Actor) -> None:
    """Approving a claim without an amount decided approves the computed one; without either it is refused."""
    claim = claim_of(case)
    if claim is None or claim.decided_amount is not None:
        return
    if claim.computed_amount is None:
        raise ValidationFailed([("amount", _("No rule computes this claim: enter the amount to pay."))])
    decide_amount(case, claim.computed_amount, "", by=by, actor=actor)


def payee_of(case: Application) -> tuple[str, str, str] | None:
    """(name, bank, account) the form gives for the payment, or None when it gives no account."""
    data = case.form_data
    keys = set(data)
    account_key = role_key(keys, "payee_account")
    heir_key = role_key(keys, "heir_account")
    if account_key and data.get(account_key):
        name = data.get("payee_name") or case.principal_name or getattr(case.person, "name", None) or ""
        bank = data.get(role_key(keys, "payee_bank") or "payee_bank") or ""
        return name, bank, str(data[account_key])
    if heir_key and data.get(heir_key):
        bank_key = next((k for k in ("heir_bank",) if k in keys), None)
        return data.get("heir_name") or "", data.get(bank_key) or "" if bank_key else "", str(data[heir_key])
    return None


def payee_kind(case: Application) -> str:
    """Whose account a case pays: an institution's settlement account for an institution's case, else a person's."""
    return "institution" if case.audience == "institution" else "person"


def create_payment(case: Application, *, by: Any, actor: Actor) -> Payment:
    """拨付 starts: the money order of the decided amount to the payee the form gives."""
    claim = claim_of(case)
    if claim is None or claim.decided_amount is None:
        raise InvalidTransition(_("No amount has been decided for this claim: the reviewer approves it with one."))
    if claim.payment is not None:
        return claim.payment
    payee = payee_of(case)
    if payee is None:
        raise InvalidTransition(_("The application gives no bank account to pay: ask the applicant for it with "
                                  "a one-time notice."))
    if claim.kind == ClaimKind.WITHDRAWAL:  # the account is debited now, before the money leaves
        from .effects import debit_withdrawal

        try:
            debit_withdrawal(case, claim)
        except InvalidTransition as error:
            raise InvalidTransition(_("The personal account now holds less than the approved amount, so nothing is "
                                      "paid: return the case to review, where the amount is decided again.")) \
                from error
    payment = Payment(application_id=case.id, claim=claim, amount=claim.decided_amount, state="pending",
                      payee_name=payee[0], payee_bank=payee[1], payee_account=payee[2],
                      payee_kind=payee_kind(case), created_by_id=getattr(by, "id", None))
    db.session.add(payment)
    db.session.flush()
    record("claim.payment_created", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "payment": payment.id, "amount": str(payment.amount)})
    return payment


def confirm_paid(case: Application, *, by: Any, actor: Actor, reference: str | None = None) -> Payment:
    """Finance confirms the money has left (paid by hand, or read from the bank's return file)."""
    claim = claim_of(case)
    payment = claim.payment if claim is not None else None
    if payment is None:
        raise InvalidTransition(_("This claim has no payment to confirm."))
    if payment.state == "paid":
        return payment
    if payment.state == "exported" and reference is None:
        raise InvalidTransition(_("This payment is in a batch sent to the bank: it is settled by the bank's "
                                  "return file."))
    if payment.state not in ("pending", "exported"):
        raise InvalidTransition(_("This payment failed: the applicant must correct the account first."))
    payment.state, payment.paid_at, payment.bank_reference = "paid", clock.now(), (reference or "")[:64] or None
    paid = _paid_text(payment.amount)
    case.result_text = f"{case.result_text.strip()}\n{paid}" if (case.result_text or "").strip() else paid
    db.session.flush()
    record("claim.paid", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "payment": payment.id, "amount": str(payment.amount)})
    return payment


def _paid_text(amount: Decimal) -> str:
    from ...certificates.facts import amount_in_words

    return f"已支付 ¥{amount:,.2f}（人民币{amount_in_words(amount)}）。"


# --- guards and steps tied to the case's moves -----------------------------------------------------------------


def on_case_moved(case: Application, *, event: Any, action: Action, **_kw: Any) -> None:
    """Keep the claim in step with its case (connected to ``case_moved``; raising undoes the move)."""
    if not case.is_money:
        return
    if action in (Action.SUBMIT, Action.RESUBMIT):
        record_claim(case)
        return
    claim = claim_of(case)
    if claim is None:
        return
    actor = Actor.system()
    if action is Action.ACCEPT and claim.late_deadline is not None and claim.late_accepted_at is None:
        raise InvalidTransition(_("This claim was filed after its deadline (%(date)s): it is accepted only for force "
                                  "majeure (不可抗力), with the reason recorded.",
                                  date=local_date(claim.late_deadline)))
    if action is Action.APPROVE and claim.decided_amount is None:
        raise InvalidTransition(_("Approve a claim with the amount to pay."))
    if action is Action.APPROVE:
        check_invoices_paid_once(claim)
        check_within_cap(claim)
        check_within_balance(case, claim)
    if action is Action.START_PAYMENT:
        create_payment(case, by=event.actor, actor=actor)
    if action is Action.RETURN_TO_REVIEW:
        reopen_amount(case, claim, actor=actor)
    if action is Action.COMPLETE and (claim.payment is None or claim.payment.state != "paid"):
        raise InvalidTransition(_("The claim completes once its payment is paid."))


def staff_view(case: Application, *, reveal_to: Actor | None = None) -> dict[str, Any] | None:
    """What the case page shows staff about the claim, or None. The payee's account is masked except for finance
    at the payment step (``reveal_to``: the actor it is shown to, audited)."""
    claim = claim_of(case)
    if claim is None:
        return None
    from ...core.masking import mask_bank_account
    from .working import describe

    payee = payee_of(case)
    account = None
    if payee is not None:
        account = payee[2] if reveal_to is not None else mask_bank_account(payee[2])
        if reveal_to is not None:
            record("claim.view_account", actor=reveal_to, object_type="application", object_id=case.id,
                   detail={"number": case.number})
    return {"claim": claim, "lines": [describe(line) for line in claim.working], "duplicates": duplicates(claim),
            "payment": claim.payment, "payee": (payee[0], payee[1], account) if payee else None,
            "payment_label": PAYMENT_LABELS[claim.payment.state] if claim.payment else "",
            "cap_used": cap_used(claim.person_id, claim.benefit_year, claim.scheme) if claim.scheme else None,
            # what approval will count too (``check_within_cap``): the reviewer sees it before deciding
            "cap_approved": approved_unpaid(claim.person_id, Claim.benefit_year == claim.benefit_year,
                                             Claim.scheme == claim.scheme, excluding=claim.id)
            if claim.scheme and claim.person_id else None,
            "cap": cap_of(claim)}


def correct_payee(case: Application, name: str, bank: str, account: str, *, by: Any, actor: Actor) -> Payment:
    """The claimant gives another account after the bank failed to pay: the failed payment stays on record and a
    new one waits for the next batch. The account is checked like the form's (card check digit, holder)."""
    from ...applications.permissions import is_applicant
    from ..base import FilingContext
    from .rules import allowed_payees, card_problem

    claim = claim_of(case)
    failed = claim.payments[-1] if claim is not None and claim.payments else None
    if not is_applicant(by, case) or failed is None or failed.state != "failed":
        raise InvalidTransition(_("Only a claim whose payment failed takes another account."))
    institution = payee_kind(case) == "institution"
    account = "".join(str(account or "").split())
    name, bank = (name or "").strip()[:64], (bank or "").strip()[:100]
    problems: list[tuple[str | None, str]] = []
    if not name:
        problems.append(("payee_name", _("Enter the account holder's name.")))
    if not bank:
        problems.append(("payee_bank", _("Enter the bank.")))
    if not account.isdigit() or not 8 <= len(account) <= 30:
        problems.append(("payee_account", _("Enter a bank account number of 8 to 30 digits.")))
    elif not institution and card_problem(account):  # a person's card has a check digit; a company account none
        problems.append(("payee_account", card_problem(account)))
    context = FilingContext(item=_item(case), person=case.person, unit=case.unit, data=case.form_data, case=case)
    owner = getattr(case, "institution", None) if institution else None
    if institution and name and owner is not None and _plain(name) != _plain(owner.name):
        problems.append(("payee_name", _("The account must be the institution's own: its name must be %(name)s.",
                                         name=owner.name)))
    elif not institution and name and _plain(name) not in allowed_payees(context):
        problems.append(("payee_name", _("The account holder must be the insured person, or the agent or heir named "
                                         "in this application.")))
    if problems:
        raise ValidationFailed(problems)
    payment = Payment(application_id=case.id, claim=claim, amount=failed.amount, state="pending", payee_name=name,
                      payee_bank=bank, payee_account=account, payee_kind=failed.payee_kind, created_by_id=by.id)
    db.session.add(payment)
    data = case.form_data
    keys = set(data)
    data[role_key(keys, "payee_account") or "payee_account"] = account
    data[role_key(keys, "payee_bank") or "payee_bank"] = bank
    data["payee_name"] = name
    case.form_data = data
    db.session.flush()
    record("claim.payee_corrected", actor=actor, object_type="application", object_id=case.id,
           detail={"number": case.number, "failed_payment": failed.id, "payment": payment.id})
    return payment


def _plain(name: str) -> str:
    from .rules import _plain_name

    return _plain_name(name)


def applicant_view(case: Application) -> dict[str, Any] | None:
    """What the claimant sees of the claim: the amount (decided, or as computed), its working, the payment; and for
    a withdrawal that could not close the account, what is left in it (``effects.left_open_by``)."""
    claim = claim_of(case)
    if claim is None:
        return None
    from .effects import left_open_by
    from .working import describe

    payment = claim.payments[-1] if claim.payments else None
    left = left_open_by(case) if claim.kind == ClaimKind.WITHDRAWAL and case.state == State.COMPLETED else None
    return {"claim": claim, "lines": [describe(line) for line in claim.working], "payment": payment,
            "left_open": left,
            "payment_label": PAYMENT_LABELS[payment.state] if payment else "",
            "can_correct": payment is not None and payment.state == "failed",
            "cap_used": cap_used(claim.person_id, claim.benefit_year, claim.scheme) if claim.scheme else None,
            "cap": cap_of(claim)}
