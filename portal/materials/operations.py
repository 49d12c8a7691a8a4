"""Files of a case's materials: upload, remove, list, open for viewing, claim at submission, sweep.

Same conventions as ``applications.operations``: the account acting (``by``) and the audit ``actor`` are passed
in; rules raise domain errors (another person's case or file is NotFound, S6); nothing commits.

Order of an upload, and what a crash leaves (S19): the bytes are checked (``checks.check_and_clean``), the clean
copy is encrypted into a new object (``EncryptedStore.save``, atomic), then the row is inserted and flushed; the
caller commits. A crash after the object is written but before the commit leaves an object no row names: an
*orphan*, which :func:`sweep_unclaimed` deletes once it is a day old. Nothing half-saved is ever visible.

"Unclaimed", for the sweeper: a row whose case no longer exists (``application_id`` NULL: the draft was
discarded), a row the applicant removed before the case was submitted, and an object without a row. Files of a
live draft are attached to the draft and are *not* swept, however old: the draft may be resumed on any device.
Files become *claimed* (``claimed_at``) when their case is submitted or resubmitted; from then on the agency sees
them, and a removal only hides them (the body is kept for the record until retention purges the case).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, BinaryIO, TypeVar

from flask import current_app
from sqlalchemy import func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.models import AccountKind
from ..applications.constants import EDITABLE_STATES, MaterialMode, State
from ..applications.models import Application
from ..applications.operations import catalog_item
from ..applications.permissions import can_view, is_applicant
from ..core import clock
from ..core.audit import Actor, record, scrub
from ..core.db import db
from ..core.errors import Conflict, DomainError, InvalidTransition, NotFound
from ..core.translation import gettext as _
from ..services import handler_for
from . import checks
from .models import MaterialFile
from .storage import EncryptedStore, ObjectNotFound, Storage, encrypted_store_from_config
from .stream import TamperedError

MAX_FILES_PER_MATERIAL = 20  # PORTAL_UPLOAD_MAX_FILES_PER_MATERIAL
SWEEP_AFTER = timedelta(days=1)
T = TypeVar("T")
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})  # an OFD file is downloaded


def store() -> EncryptedStore:
    """The app's encrypted file store (built from the config at each use, so a key added is seen at once)."""
    return encrypted_store_from_config(current_app)


def upload_limits() -> checks.Limits:
    """Per-file and per-case caps: ``PORTAL_UPLOAD_MAX_FILE_BYTES`` and ``PORTAL_UPLOAD_MAX_CASE_BYTES``, else
    the defaults of ``checks.Limits`` (10 MB a file, 50 MB a case)."""
    config = current_app.config
    defaults = checks.Limits()
    return checks.Limits(max_file_bytes=int(config.get("PORTAL_UPLOAD_MAX_FILE_BYTES") or defaults.max_file_bytes),
                         max_case_bytes=int(config.get("PORTAL_UPLOAD_MAX_CASE_BYTES") or defaults.max_case_bytes))


def display_name(row: MaterialFile) -> str:
    """The name shown on pages, API answers and download headers: any 身份证 or mobile in it masked (S12)."""
    return scrub(row.name)


# --- reads -------------------------------------------------------------------------------------------


def _live(case: Application) -> Any:
    return select(MaterialFile).where(MaterialFile.application_id == case.id, MaterialFile.deleted_at.is_(None))


def files_of(case: Application, *, for_account: Any) -> dict[str, list[MaterialFile]]:
    """The live files of the case by material, oldest first. The applicant sees every one; staff only those the
    case was submitted or resubmitted with (the agency never sees a half-made correction)."""
    query = _live(case).order_by(MaterialFile.id)
    if not is_applicant(for_account, case):
        query = query.where(MaterialFile.claimed_at.is_not(None))
    out: dict[str, list[MaterialFile]] = defaultdict(list)
    for row in db.session.execute(query).scalars():
        out[row.material_id].append(row)
    return dict(out)


def file_counts(case: Application) -> dict[str, int]:
    """How many live files each material of the case has (for the submission check)."""
    rows = db.session.execute(
        select(MaterialFile.material_id, func.count()).where(MaterialFile.application_id == case.id,
                                                             MaterialFile.deleted_at.is_(None))
        .group_by(MaterialFile.material_id)).all()
    return dict(rows)


def _case_bytes(case: Application) -> int:
    return db.session.execute(select(func.coalesce(func.sum(MaterialFile.size_stored), 0)).where(
        MaterialFile.application_id == case.id, MaterialFile.deleted_at.is_(None))).scalar_one()


def get_file(file_id: int, *, for_account: Any) -> tuple[MaterialFile, Application]:
    """The file and its case if ``for_account`` may open it; NotFound otherwise, always the same (S6).

    The case's applicant (for a unit's case, every agent of the unit) may open its live files; staff the
    claimed ones. Removed files, files of a deleted draft and everyone else: not found.
    """
    row = db.session.get(MaterialFile, file_id) if 0 < file_id < 2**31 else None
    case = db.session.get(Application, row.application_id) if row is not None and row.application_id else None
    allowed = (case is not None and row.deleted_at is None and can_view(for_account, case)
               and (is_applicant(for_account, case) or (for_account.kind == AccountKind.STAFF
                                                        and row.claimed_at is not None)))
    if not allowed:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    return row, case


class FileUnreadable(DomainError):
    """A stored file fails its integrity check (another file's body, altered, cut) or is missing: nothing of it
    is shown. An incident for the agency, not something the person asking can fix."""

    status = 500


def open_file(row: MaterialFile, case: Application, *, actor: Actor) -> Iterator[bytes]:
    """Write the ``material.view`` audit row and return the file's plaintext, one verified segment at a time.

    The key is unwrapped and the first segment decrypted here, so a missing body or one that is not this row's
    (swapped, altered at the start, cut inside its first segment) raises FileUnreadable before any response
    starts, with a message the person can read. Damage further in surfaces while iterating: the download stops
    short of its Content-Length, so the browser reports it failed; no unverified byte is ever sent.
    """
    return _opened(row, actor=actor, detail={"application": case.id, "material": row.material_id})


def _opened(row: MaterialFile, *, actor: Actor, detail: dict[str, Any]) -> Iterator[bytes]:
    chunks = store().read(row)
    try:
        first = next(chunks, b"")
    except (TamperedError, ObjectNotFound) as error:
        current_app.logger.error("material file %s (row %s) cannot be read: %s", row.storage_key, row.id, error)
        raise FileUnreadable(_("This file cannot be shown: its stored copy failed the integrity check. The agency "
                               "has been alerted; upload it again if you are asked to."), code="file_unreadable") \
            from None
    record("material.view", actor=actor, object_type="material_file", object_id=row.id, detail=detail)
    return itertools.chain((first,), chunks)


# --- changes -----------------------------------------------------------------------------------------


def _check_editable(case: Application, material_id: str, *, by: Any) -> None:
    """The applicant may change the files of a draft, and of a case waiting for corrections only for the materials
    its open notice lists. Raise NotFound (not the applicant, no such material) or InvalidTransition."""
    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    if material_id not in {m.id for m in catalog_item(case).materials}:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    if State(case.state) not in EDITABLE_STATES:
        raise InvalidTransition(_("Files can be added or removed only while the application is a draft, or when "
                                  "the agency asks for corrections."))
    if case.state == State.CORRECTION_REQUESTED:
        notice = case.open_notice
        if notice is None or material_id not in notice.material_ids:
            raise InvalidTransition(_("Only the materials listed in the notice can be supplied now."))


def upload_file(case: Application, material_id: str, stream: BinaryIO | bytes, filename: str, *, by: Any,
                actor: Actor) -> MaterialFile:
    """Check, encrypt and store one uploaded file as a file of ``material_id``; the material is then provided
    online (MaterialMode.UPLOAD).

    Raise NotFound or InvalidTransition as :func:`_check_editable` says; ``checks.UploadRefused`` when the file
    fails a check (type from its bytes, per-file and per-case caps, content rules, virus scan) or the material
    already has ``MAX_FILES_PER_MATERIAL`` files. A refusal is audited (result ``denied``) and changes nothing
    else, so the caller may commit to keep the audit row.
    """
    _check_editable(case, material_id, by=by)
    most = int(current_app.config.get("PORTAL_UPLOAD_MAX_FILES_PER_MATERIAL") or MAX_FILES_PER_MATERIAL)
    if file_counts(case).get(material_id, 0) >= most:
        refused = checks.UploadRefused("too_many_files", _(
            "This material already has %(count)d files, the most it can have. Remove some before adding more.",
            count=most))
        record("material.upload", actor=actor, object_type="application", object_id=case.id, result="denied",
               detail={"material": material_id, "code": refused.code})
        raise refused
    row, clean = _store_checked(case, material_id, stream, filename, by=by, actor=actor, action="material.upload")
    record("material.upload", actor=actor, object_type="material_file", object_id=row.id,
           detail={"application": case.id, "material": material_id, "kind": row.kind, "size": row.size_plain})
    if clean.invoice and case.state == State.DRAFT:
        item = catalog_item(case)
        material = next(m for m in item.materials if m.id == material_id)
        place = handler_for(item).read_upload(case, material, clean.invoice)
        if place is not None:
            row.prefill = {"row": place, "values": clean.invoice}
            _flush()
    return row


def replace_file(case: Application, old: MaterialFile, stream: BinaryIO | bytes, filename: str, *, by: Any,
                 actor: Actor) -> MaterialFile:
    """Put a new file in the place of one of the case's files: allowed while the case may be edited (a draft;
    during a correction, for the materials the notice lists) and, once submitted, until the agency accepts it.

    The new file passes the same checks as an upload (the old one's size does not count towards the case's
    cap); only then is the old one removed, so a refused replacement changes nothing but its audit row. A case the
    agency already sees (submitted, not yet accepted) sees the new file at once; the old one's body is kept for
    the record. Touching the case bumps its version, so an acceptance at the same moment makes one of the two
    fail rather than accept a case whose file changed underneath (S20). Raise NotFound (not the applicant's
    case or file), InvalidTransition (accepted, or any other state), ``checks.UploadRefused``.
    """
    if old.application_id != case.id or old.deleted_at is not None:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    _check_replaceable(case, old.material_id, by=by)
    row, _clean = _store_checked(case, old.material_id, stream, filename, by=by, actor=actor,
                                 action="material.replace", freed=old.size_stored)
    now = clock.now()
    if State(case.state) not in EDITABLE_STATES:
        row.claimed_at = now  # submitted and awaiting acceptance: the agency sees the case's files already
    old.deleted_at = now
    _flush()
    record("material.replace", actor=actor, object_type="material_file", object_id=row.id,
           detail={"application": case.id, "material": row.material_id, "replaces": old.id, "kind": row.kind,
                   "size": row.size_plain})
    return row


def can_replace_files(case: Application) -> bool:
    """Whether the case is in a state where its applicant may replace files (see :func:`replace_file`)."""
    return State(case.state) in EDITABLE_STATES or _awaiting_acceptance(case)


def _awaiting_acceptance(case: Application) -> bool:
    return State(case.state) in {State.SUBMITTED, State.RESUBMITTED} and case.accepted_at is None


def _check_replaceable(case: Application, material_id: str, *, by: Any) -> None:
    if not is_applicant(by, case):
        raise NotFound(_("No such application."))
    if not _awaiting_acceptance(case):
        try:
            _check_editable(case, material_id, by=by)
        except InvalidTransition as error:
            if State(case.state) == State.CORRECTION_REQUESTED:
                raise
            raise InvalidTransition(_("A file can be replaced only until the agency accepts the application, or "
                                      "when it asks for corrections.")) from error


def upload_kinds(case: Application, material_id: str) -> frozenset[str]:
    """The kinds of file ``material_id`` of the case takes: PDF, JPEG and PNG, or what the item's handler says
    (a claim's invoices also take OFD e-receipts)."""
    item = catalog_item(case)
    material = next((m for m in item.materials if m.id == material_id), None)
    kinds = handler_for(item).upload_kinds(item, material) if material is not None else None
    return kinds or checks.ALLOWED


def _store_checked(case: Application, material_id: str, stream: BinaryIO | bytes, filename: str, *, by: Any,
                   actor: Actor, action: str, freed: int = 0) -> tuple[MaterialFile, checks.CleanFile]:
    """Check, encrypt and store one file of ``material_id`` and add its row (flushed); audit a refusal under
    ``action`` and re-raise it. ``freed``: bytes of a file this one replaces, not counted towards the case cap."""
    row, clean = _checked_row(stream, filename, material_id, allowed=upload_kinds(case, material_id), by=by,
                              used=_case_bytes(case) - freed,
                              refused=lambda code: record(action, actor=actor, object_type="application",
                                                          object_id=case.id, result="denied",
                                                          detail={"material": material_id, "code": code}))
    row.application_id = case.id
    db.session.add(row)
    case.materials = {**case.materials, material_id: MaterialMode.UPLOAD.value}
    case.updated_at = clock.now()
    _flush()
    return row, clean


def _checked_row(stream: BinaryIO | bytes, filename: str, material_id: str, *, allowed: frozenset[str], by: Any,
                 used: int, refused: Callable[[str], Any]) -> tuple[MaterialFile, checks.CleanFile]:
    """Check and clean one upload, encrypt it into the store and return its (unsaved) row and the clean file;
    ``refused(code)`` is called before a refusal is re-raised."""
    try:
        clean = checks.check_and_clean(stream, filename=filename or "", allowed=allowed,
                                       limits=upload_limits(), case_bytes_so_far=used)
    except checks.UploadRefused as error:
        refused(error.code)
        raise
    stored = store().save([clean.data])
    return MaterialFile(
        material_id=material_id, uploaded_by_id=getattr(by, "id", None),
        storage_key=stored.storage_key, kid=stored.kid, wrapped_dek=stored.wrapped_dek,
        size_plain=stored.size_plain, size_stored=stored.size_stored, stream_header=stored.stream_header,
        kind=clean.kind, media_type=clean.media_type, pages=clean.pages, name=clean.original_name,
        created_at=clock.now(),
    ), clean


def store_document(stream: BinaryIO | bytes, filename: str, *, material_id: str, by: Any, actor: Actor,
                   object_type: str) -> MaterialFile:
    """Check, encrypt and store a file that belongs to no case (a unit's 授权委托书, kept by its registration,
    ``portal.organisations``): the same checks and encryption as a case's files; the row is flushed."""
    row, _clean = _checked_row(stream, filename, material_id, allowed=checks.ALLOWED, by=by, used=0,
                               refused=lambda code: record("material.upload", actor=actor, object_type=object_type,
                                                           result="denied",
                                                           detail={"material": material_id, "code": code}))
    db.session.add(row)
    db.session.flush()
    return row


def open_document(row: MaterialFile, *, actor: Actor, object_type: str, object_id: Any) -> Iterator[bytes]:
    """``open_file`` for a file of no case: audited as ``material.view`` of the object that keeps it."""
    return _opened(row, actor=actor, detail={object_type: object_id, "material": row.material_id})


class CaseChanged(Conflict):
    """The case row changed between reading and writing it (its version moved): another request got there first."""


def _flush() -> None:
    """Flush; a version conflict, or SQLite's "database is locked" (another request writing at this moment, on a
    development database), becomes CaseChanged after a rollback, for ``retry_on_conflict`` to try again."""
    try:
        db.session.flush()
    except (StaleDataError, OperationalError) as error:
        if isinstance(error, OperationalError) and "database is locked" not in str(error.orig):
            raise
        db.session.rollback()
        raise CaseChanged(_("Someone else changed this case a moment ago. Reload it to see where it stands."),
                          code="case_changed") from error


def retry_on_conflict(work: Callable[[], T], *, attempts: int = 3) -> T:
    """``work()``, run again (up to ``attempts`` times in all) when it meets CaseChanged.

    Files chosen together are sent at the same moment (the uploader, the mini-program): each upload touches the
    case row, so all but the first would meet a version conflict although nothing went wrong. The failed attempt
    was rolled back, the case is read afresh on the next, and the rules are checked again, so a real change (the
    agency accepted the case meanwhile) is still refused. Call it with nothing else uncommitted: the rollback would
    take that too. Its body written before the conflict is an orphan the sweeper removes.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except CaseChanged:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def remove_file(case: Application, row: MaterialFile, *, by: Any, actor: Actor) -> None:
    """The applicant removes one of the case's files (same rules as uploading). It disappears from every list at
    once; an unclaimed file's body is deleted by the sweeper, a claimed one's is kept for the record."""
    if row.application_id != case.id or row.deleted_at is not None:
        raise NotFound(_("The page or record you asked for does not exist, or you may not see it."))
    _check_editable(case, row.material_id, by=by)
    row.deleted_at = clock.now()
    case.updated_at = clock.now()
    _flush()
    record("material.remove", actor=actor, object_type="material_file", object_id=row.id,
           detail={"application": case.id, "material": row.material_id})


def claim_files(case: Application) -> int:
    """Stamp the case's live, not yet claimed files as claimed (at submission and resubmission)."""
    rows = db.session.execute(_live(case).where(MaterialFile.claimed_at.is_(None))).scalars().all()
    now = clock.now()
    for row in rows:
        row.claimed_at = now
    return len(rows)


# --- sweeping ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    rows: int  # unclaimed rows deleted with their bodies
    orphans: int  # objects no row named
    incomplete: int  # temporary objects of interrupted writes


def sweep_unclaimed(*, older_than: timedelta = SWEEP_AFTER, now: datetime | None = None,
                    storage: Storage | None = None) -> SweepReport:
    """Delete what no case claims, once it is older than ``older_than`` (S19); the caller commits.

    1. Rows of no case (their draft was discarded) created before the cut-off, and rows removed from a draft
       before the cut-off: their bodies, then the rows. A crash between the two leaves a row whose body is
       gone; the next sweep deletes it (deleting a missing object is not an error).
    2. Objects that no row names and that were written before the cut-off (uploads whose request failed after
       the body was stored). The age check keeps an upload that is being committed right now. A backend that
       cannot date an object keeps it.
    3. The backend's leftovers of interrupted writes (``Storage.sweep_incomplete``).

    The storage backend is assumed to hold material files only.
    """
    from ..organisations.models import OrgRegistration

    cutoff = (now or clock.now()) - older_than
    storage = storage or store().storage
    letters = select(OrgRegistration.letter_file_id).where(OrgRegistration.letter_file_id.is_not(None))
    doomed = db.session.execute(select(MaterialFile).where(
        MaterialFile.claimed_at.is_(None),
        or_(MaterialFile.application_id.is_(None), MaterialFile.deleted_at < cutoff),
        MaterialFile.id.not_in(letters),  # a unit's 授权委托书 belongs to its registration, not to a case
        MaterialFile.created_at < cutoff)).scalars().all()
    for row in doomed:
        storage.delete(row.storage_key)
        db.session.delete(row)
    db.session.flush()
    known = set(db.session.execute(select(MaterialFile.storage_key)).scalars())
    orphans = 0
    for key in list(storage.list_keys()):
        if key not in known and _written_before(storage, key, cutoff):
            storage.delete(key)
            orphans += 1
    incomplete = storage.sweep_incomplete(cutoff)
    return SweepReport(len(doomed), orphans, incomplete)


def _written_before(storage: Storage, key: str, cutoff: datetime) -> bool:
    modified = storage.modified_at(key)
    return modified is not None and modified < cutoff
