"""Operations on cases: start, save, submit, withdraw, and the agency's moves (accept, notify, refuse,
review, approve, deny, pay, complete, deliver); progress tokens.

Each function takes the case, its input, the account acting (``by``; None is the system) and the audit
``actor``; it checks the rules, changes state through ``transition()``, flushes and writes an audit row.
None commits: the caller commits once, so a failure anywhere leaves nothing half-saved (S19).

This package is the public surface callers import (``from portal.applications import operations``); each seam
has its module: ``drafts`` (start, save, submit, withdraw, resume, discard), ``decisions`` (the agency's moves),
``notices`` (一次性告知 and resubmission), ``lookup`` (progress tokens, a case for an account, the applicant's
cases), ``checks`` (prefill, form and materials, pre-checks), ``base`` (``transition()`` and the flush) and
``inputs`` (the frozen input objects).
"""

from __future__ import annotations

from .base import catalog_item, transition
from .checks import (
    item_prechecks,
    material_modes,
    prechecks,
    record_values,
    required_materials,
    shown_specs,
    specs_for,
)
from .decisions import (
    accept_application,
    approve_application,
    complete_application,
    deliver_application,
    deny_application,
    refuse_application,
    return_to_review,
    start_payment,
    start_review,
)
from .drafts import (
    check_idempotency_key,
    discard_draft,
    resume_or_start,
    save_draft,
    start_application,
    submit_application,
    withdraw_application,
)
from .inputs import DraftInput, NoticeEntry, NoticeInput, Principal, Resubmission
from .lookup import (
    PROGRESS_TOKEN_DAYS,
    applicant_cases,
    applicant_drafts,
    find_by_token,
    get_case,
    issue_progress_token,
    open_cases,
    revoke_progress_tokens,
)
from .notices import CORRECTION_WORKING_DAYS, request_correction, resubmit_application

__all__ = [
    "CORRECTION_WORKING_DAYS", "PROGRESS_TOKEN_DAYS", "DraftInput", "NoticeEntry", "NoticeInput", "Principal",
    "Resubmission", "accept_application", "applicant_cases", "applicant_drafts", "approve_application",
    "catalog_item", "check_idempotency_key", "complete_application", "deliver_application", "deny_application",
    "discard_draft", "find_by_token", "get_case", "issue_progress_token", "item_prechecks", "material_modes",
    "open_cases", "prechecks", "record_values", "refuse_application", "request_correction", "required_materials",
    "resubmit_application", "resume_or_start", "return_to_review", "revoke_progress_tokens", "save_draft",
    "shown_specs", "specs_for", "start_application", "start_payment", "start_review", "submit_application",
    "transition", "withdraw_application",
]
