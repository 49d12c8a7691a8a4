"""Uploaded files of a case: one row per file, several per material slot.

A row holds what ``EncryptedStore.read`` needs (storage key, key id, wrapped data key, sizes, stream header) and the
file's display name, sealed like every other piece of personal data. The body itself is only ever in the
storage backend, encrypted.

Life of a row: created by an upload to a draft (or, during a one-time notice, to a listed material) with
``application_id`` set and ``claimed_at`` NULL; ``claimed_at`` is stamped when the case is submitted or
resubmitted, from then on the agency sees it. ``deleted_at`` marks a file the applicant removed. A row whose
case is deleted (a discarded draft) loses its ``application_id`` (``ON DELETE SET NULL``) and is swept a day
later with its body (see ``operations.sweep_unclaimed``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core import clock
from ..core.crypto import Encrypted
from ..core.db import Base


class MaterialFile(Base):
    """One uploaded file of one material of a case."""

    __tablename__ = "material_file"
    __table_args__ = (
        CheckConstraint("kind IN ('pdf', 'jpeg', 'png', 'ofd')", name="kind"),
        CheckConstraint("claimed_at IS NULL OR application_id IS NOT NULL", name="claimed_has_case"),
        CheckConstraint("size_plain >= 0 AND size_stored >= 0", name="sizes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL once its case is gone (a discarded draft): such a row is unclaimed and swept with its body
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id", ondelete="SET NULL"),
                                                       index=True)
    material_id: Mapped[str] = mapped_column(String(64))  # the catalog material (slot) of the case's item
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))

    storage_key: Mapped[str] = mapped_column(String(128), unique=True)  # random; says nothing about the file
    kid: Mapped[str] = mapped_column(String(16), index=True)  # the file key (KEK) wrapping the data key
    wrapped_dek: Mapped[bytes] = mapped_column(LargeBinary)
    size_plain: Mapped[int] = mapped_column(Integer)
    size_stored: Mapped[int] = mapped_column(Integer)
    # the 12-byte STREAM header of the body: random per file, so reading checks the body is this row's;
    # NULL only for files stored before it was recorded (their tags still refuse any other body)
    stream_header: Mapped[bytes | None] = mapped_column(LargeBinary)

    kind: Mapped[str] = mapped_column(String(8))  # pdf, jpeg, png, ofd: from the bytes (checks.identify)
    media_type: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Encrypted("material_file.name"))  # display name, cleaned; sealed

    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[datetime | None]  # the case was submitted or resubmitted with it
    deleted_at: Mapped[datetime | None]  # removed by the applicant

    # not stored: the invoice row an uploaded e-receipt prefilled ({"row": n, "values": {…}}), for the answer
    prefill = None

    @property
    def is_live(self) -> bool:
        return self.deleted_at is None
