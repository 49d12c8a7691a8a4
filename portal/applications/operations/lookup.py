"""Finding cases: progress tokens (the receipt's QR), a case for an account, the applicant's cases and drafts."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import lazyload, selectinload

from ...core import clock
from ...core.audit import Actor, record
from ...core.crypto import sha256_hex
from ...core.db import db
from ...core.errors import InvalidTransition, NotFound
from ...core.translation import gettext as _
from ..constants import CLOSED_STATES, State
from ..models import Application, ProgressToken
from .base import _config, _flush

PROGRESS_TOKEN_DAYS = 730  # a receipt's QR keeps working this long; PORTAL_PROGRESS_TOKEN_DAYS


def issue_progress_token(case: Application) -> str:
    """A new 128-bit token for a receipt's QR; only its SHA-256 is stored. Earlier tokens stay valid."""
    if case.number is None:
        raise InvalidTransition(_("A draft has no receipt."))
    token = secrets.token_urlsafe(16)
    days = _config("PORTAL_PROGRESS_TOKEN_DAYS", PROGRESS_TOKEN_DAYS)
    db.session.add(ProgressToken(application_id=case.id, token_hash=sha256_hex(token),
                                 created_at=clock.now(), expires_at=clock.now() + timedelta(days=days)))
    _flush()
    return token


def find_by_token(token: str) -> Application | None:
    """The case a live token belongs to; None for unknown, expired and revoked tokens alike."""
    if not token or len(token) > 64:
        return None
    row = db.session.execute(
        select(ProgressToken).where(ProgressToken.token_hash == sha256_hex(token))).scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return row.application


def revoke_progress_tokens(case: Application, *, actor: Actor) -> int:
    """Revoke every live token of the case (e.g. a receipt was lost); returns how many."""
    now = clock.now()
    rows = db.session.execute(select(ProgressToken).where(ProgressToken.application_id == case.id,
                                                          ProgressToken.revoked_at.is_(None))).scalars().all()
    for row in rows:
        row.revoked_at = now
    _flush()
    record("application.revoke_tokens", actor=actor, object_type="application", object_id=case.id,
           detail={"count": len(rows)})
    return len(rows)


_OWN_CASE = (lazyload(Application.applicant),)


def get_case(case_id: int, *, for_account: Any) -> Application:
    """The case with ``case_id`` if ``for_account`` may see it; NotFound otherwise (S6: same answer)."""
    from ..permissions import can_view

    # the applicant is not joined in: it is mostly ``for_account`` itself, already loaded with the request
    case = db.session.get(Application, case_id, options=_OWN_CASE) if 0 < case_id < 2**31 else None
    if case is None or not can_view(for_account, case):
        raise NotFound(_("No such application."))
    return case


def _cases_of(account: Any) -> Any:
    """The cases ``account`` files or follows: its own, or for a unit's agent every case of the unit."""
    from sqlalchemy import and_, false

    from ...accounts.models import AccountKind

    if not getattr(account, "is_authenticated", False):
        return false()
    if account.kind == AccountKind.AGENT and account.unit_id is not None:
        from ...organisations.permissions import case_filter

        return and_(Application.audience == "unit", Application.unit_id == account.unit_id,
                    case_filter(account, Application.item_code))
    if account.kind == AccountKind.AGENT and account.institution_id is not None:
        from ...organisations.permissions import case_filter

        return and_(Application.audience == "institution", Application.institution_id == account.institution_id,
                    case_filter(account, Application.item_code))
    if account.kind == AccountKind.CITIZEN:
        return Application.applicant_id == account.id
    return false()


def applicant_cases(account: Any, *, page: int = 1, per_page: int = 20) -> tuple[list[Application], int]:
    """One page of the submitted cases of ``account`` (see ``_cases_of``), newest first, and how many there are."""
    from sqlalchemy import func

    where = (_cases_of(account), Application.state != State.DRAFT.value)
    total = db.session.execute(select(func.count()).select_from(Application).where(*where)).scalar_one()
    rows = db.session.execute(
        select(Application).where(*where)
        .options(selectinload(Application.notices))  # the open notice's reply date counts for the estimate flag
        .order_by(Application.submitted_at.desc(), Application.id.desc())
        .limit(per_page).offset((max(page, 1) - 1) * per_page)
    ).scalars().all()
    return list(rows), total


def open_cases(account: Any, *, limit: int = 5) -> tuple[list[Application], int]:
    """The account's submitted cases that are not finished yet (the home page's "in progress"), the ones waiting
    for the applicant first, then by due date; and how many there are."""
    from sqlalchemy import case as when
    from sqlalchemy import func

    closed = [s.value for s in CLOSED_STATES]
    where = (_cases_of(account), Application.state != State.DRAFT.value, Application.state.not_in(closed))
    total = db.session.execute(select(func.count()).select_from(Application).where(*where)).scalar_one()
    yours_first = when((Application.state == State.CORRECTION_REQUESTED.value, 0), else_=1)
    rows = db.session.execute(
        select(Application).where(*where)
        .order_by(yours_first, Application.due_date.is_(None), Application.due_date, Application.id)
        .limit(limit)
    ).scalars().all()
    return list(rows), total


def applicant_drafts(account: Any, *, item_code: str | None = None, limit: int = 50) -> list[Application]:
    """The drafts of ``account`` (a unit's agents share the unit's drafts), last changed first."""
    query = select(Application).where(_cases_of(account), Application.state == State.DRAFT.value).options(*_OWN_CASE)
    if item_code is not None:
        query = query.where(Application.item_code == item_code)
    return list(db.session.execute(
        query.order_by(Application.updated_at.desc(), Application.id.desc()).limit(limit)).scalars().all())
