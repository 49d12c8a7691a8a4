"""``/api/v1/applications``: filing from the mini-program — the items one may file, drafts, submission,
withdrawal, resubmission after a notice, my cases, the timeline and the receipt — and
``/api/v1/progress/<token>``, what the receipt's QR code shows.

The same operations as the filing pages (views.py). Every case route loads the case through
``operations.get_case`` and answers 404 for a case the caller does not file (S6). A state-changing call
commits once, after its operation; a refusal leaves nothing of it behind (S19).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from flask import current_app, jsonify, make_response, request, url_for

from ..api import Header, current_account, endpoint
from ..core.audit import actor_of
from ..core.db import db
from ..core.errors import Conflict, DomainError, NotFound, ValidationFailed
from ..core.failures import conflict_on_race
from ..core.translation import gettext as _
from ..extensions import client_ip
from . import operations, progress, schemas
from .models import Application
from .permissions import filing_audience, is_applicant
from .schemas import (
    CaseList,
    CaseListQuery,
    CaseOut,
    CreateIn,
    DraftIn,
    FilingItemList,
    ProgressOut,
    ReceiptOut,
    ResubmitIn,
    TimelineOut,
    WithdrawIn,
)

TAGS = ("applications",)
IDEMPOTENCY_KEY_RE = re.compile(r"^[\x21-\x7e]{8,64}$")  # printable ASCII, e.g. a UUID
MAX_ID = 2**31 - 1  # ids beyond a 32-bit integer exist nowhere; the database would refuse the query


# --- helpers -----------------------------------------------------------------------------------------


def _catalog():
    return current_app.extensions["portal_catalog"]


def _actor():
    return actor_of(current_account())


def _case(case_id: int) -> Application:
    """A case the caller files (staff look at cases in the workbench, not here); 404 for any other (S6)."""
    account = current_account()
    case = operations.get_case(case_id, for_account=account) if 0 < case_id <= MAX_ID else None
    if case is None or not is_applicant(account, case):
        raise NotFound(_("No such application."))
    return case


@contextmanager
def _committing() -> Iterator[None]:
    """Around the one operation of a request: commit when it succeeds, roll back whatever it left when not. A race
    lost to another request (a version moved, a unique value taken), at a flush or at the commit, is a Conflict."""
    with conflict_on_race():
        try:
            yield
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()


def _idempotency_key() -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY_RE.match(key):
        raise DomainError(_("Send an Idempotency-Key header of 8 to 64 characters (for example a new UUID for each "
                            "application), so that a repeated submission is recognised and made only once."),
                          code="idempotency_key_required")
    return key


def _progress_url(case: Application) -> str:
    """The receipt QR's address, with a new token (earlier ones stay valid)."""
    return url_for("progress.show", token=operations.issue_progress_token(case), _external=True)


# --- filing ------------------------------------------------------------------------------------------


@endpoint("/applications/items", summary="The items the logged-in account files online (citizen: individual items; "
          "agent: the unit's)", tags=TAGS, response=FilingItemList)
def list_filing_items():
    account, catalog = current_account(), _catalog()
    items = [schemas.filing_item_to_api(i, account) for i in catalog.items if filing_audience(account, i)]
    return FilingItemList(region=catalog.region.id, count=len(items), items=items)


@endpoint("/applications", method="POST", summary="Start a draft of an item, prefilled from the records (201); "
          "an open draft of the same item is returned instead (200)", tags=TAGS, body=CreateIn, response=CaseOut,
          status=201, also=(200,), errors=(403,))
def start_application(body: CreateIn):
    item = _catalog().get(body.item_code)
    if item is None:
        raise ValidationFailed([("item_code", _("There is no service item %(code)s in this region's guide.",
                                                code=body.item_code))])
    with _committing():
        case, created = operations.resume_or_start(item, by=current_account(), actor=_actor())
    response = jsonify(schemas.to_api(case).model_dump(mode="json"))
    response.status_code = 201 if created else 200
    return response


@endpoint("/applications/<int:case_id>", summary="One of my cases: form fields and data (masked), materials, "
          "notice, dates", tags=TAGS, response=CaseOut, errors=(404,))
def get_application(case_id: int):
    return schemas.to_api(_case(case_id))


@endpoint("/applications/<int:case_id>", method="PUT", summary="Save the draft: the whole form, the materials and "
          "the principal (partial data is fine; masked values sent back keep the stored ones)", tags=TAGS,
          body=DraftIn, response=CaseOut, errors=(404, 409))
def save_application(case_id: int, body: DraftIn):
    case = _case(case_id)
    with _committing():
        operations.save_draft(case, schemas.draft_input(body, case), by=current_account(), actor=_actor())
    return schemas.to_api(case)


@endpoint("/applications/<int:case_id>", method="DELETE", summary="Discard a draft (a submitted case is withdrawn "
          "instead)", tags=TAGS, status=204, errors=(404, 409))
def discard_application(case_id: int):
    case = _case(case_id)
    with _committing():
        operations.discard_draft(case, by=current_account(), actor=_actor())
    return current_app.response_class(status=204)


@endpoint("/applications/<int:case_id>/submit", method="POST", summary="Submit the draft. Requires the header "
          "Idempotency-Key (8-64 characters): the same key again returns the same case", tags=TAGS,
          response=CaseOut, errors=(400, 404, 409, 422),
          headers=(Header("Idempotency-Key", "A new value (e.g. a UUID) per submission; a repeat with the same key "
                          "returns the same case", pattern=IDEMPOTENCY_KEY_RE.pattern),))
def submit_application(case_id: int):
    key = _idempotency_key()
    case = _case(case_id)
    try:
        with _committing():  # (the operation refuses a key used for another case: 409 idempotency_key_reused)
            operations.submit_application(case, by=current_account(), actor=_actor(), idempotency_key=key)
    except Conflict:  # a double click on two workers: the other request may have submitted it with this key
        case = _case(case_id)
        if case.idempotency_key != key:
            raise
    return schemas.to_api(case)


@endpoint("/applications/<int:case_id>/withdraw", method="POST", summary="Withdraw a case the agency has not "
          "accepted yet", tags=TAGS, body=WithdrawIn, response=CaseOut, errors=(404, 409))
def withdraw_application(case_id: int, body: WithdrawIn):
    case = _case(case_id)
    with _committing():
        operations.withdraw_application(case, by=current_account(), actor=_actor(), reason=body.reason)
    return schemas.to_api(case)


@endpoint("/applications/<int:case_id>/resubmit", method="POST", summary="Answer the one-time notice: supply what "
          "it lists, into the same case", tags=TAGS, body=ResubmitIn, response=CaseOut, errors=(404, 409))
def resubmit_application(case_id: int, body: ResubmitIn):
    case = _case(case_id)
    with _committing():
        operations.resubmit_application(case, schemas.resubmission(body, case), by=current_account(),
                                        actor=_actor())
    return schemas.to_api(case)


# --- following cases ---------------------------------------------------------------------------------


@endpoint("/applications", summary="My submitted cases (an agent: the unit's), newest first, with due-date flags",
          tags=TAGS, query=CaseListQuery, response=CaseList)
def list_applications(query: CaseListQuery):
    cases, total = operations.applicant_cases(current_account(), page=query.page, per_page=query.per_page)
    return schemas.case_list_to_api(cases, total, page=query.page, per_page=query.per_page)


@endpoint("/applications/<int:case_id>/timeline", summary="What happened to the case, and its notices (staff are "
          "never named)", tags=TAGS, response=TimelineOut, errors=(404,))
def application_timeline(case_id: int):
    return schemas.timeline_to_api(_case(case_id))


@endpoint("/applications/<int:case_id>/receipt", summary="The receipt (业务单) as data, with a new progress link for "
          "its QR code", tags=TAGS, response=ReceiptOut, errors=(404, 409))
def application_receipt(case_id: int):
    case = _case(case_id)
    from ..documents.receipts import receipt_context

    with _committing():
        context = receipt_context(case, progress_url=_progress_url(case))
    return schemas.receipt_to_api(case, context)


@endpoint("/applications/<int:case_id>/receipt.pdf", summary="The receipt as a PDF (application/pdf), with a new "
          "progress link in its QR code", tags=TAGS, errors=(404, 409))
def application_receipt_pdf(case_id: int):
    case = _case(case_id)
    from ..documents.receipts import render_receipt_pdf

    with _committing():
        pdf = render_receipt_pdf(case, progress_url=_progress_url(case))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (f"attachment; filename=\"receipt-{case.number}.pdf\"; "
                                               f"filename*=UTF-8''{quote(f'业务单-{case.number}.pdf')}")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@endpoint("/progress/<token>", summary="What the receipt's QR code shows anyone holding it: item, masked number and "
          "applicant, step, dates, due date", tags=("progress",), auth=False, response=ProgressOut, errors=(404, 429))
def progress_by_token(token: str):
    progress.throttle("PORTAL_LIMIT_PROGRESS_IP", client_ip())
    progress.throttle("PORTAL_LIMIT_PROGRESS_GLOBAL")
    found = progress.public_progress(token)
    if found is None:  # unknown, expired and revoked tokens alike
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    response = jsonify(schemas.progress_to_api(found).model_dump(mode="json"))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
