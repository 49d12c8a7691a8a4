"""The doctor's check of stored files: every file row has its body, and the body decrypts to the recorded file."""

from __future__ import annotations

from collections import deque

from sqlalchemy import select

from ..core.crypto import KeyError_
from ..core.db import db
from ..core.doctor import Outcome, check, listed
from .models import MaterialFile
from .operations import store
from .storage import ObjectNotFound, StorageError
from .stream import TamperedError


@check("files", "every stored file's row has its body, and the body decrypts and verifies")
def files_whole() -> Outcome:
    encrypted = store()
    # the key columns only: the sealed display name is the keys check's business, not a reason to skip a body
    query = select(MaterialFile.id, MaterialFile.storage_key, MaterialFile.kid, MaterialFile.wrapped_dek,
                   MaterialFile.size_plain, MaterialFile.stream_header, MaterialFile.application_id,
                   MaterialFile.deleted_at).order_by(MaterialFile.id)
    problems, checked = [], 0
    for row in db.session.execute(query):
        checked += 1
        try:
            deque(encrypted.read(row), maxlen=0)  # every segment decrypted and verified, nothing kept
        except ObjectNotFound:
            sweepable = row.application_id is None or row.deleted_at is not None
            hint = " (a removed or unclaimed upload: `portal files sweep` deletes its row)" if sweepable else ""
            problems.append(f"file {row.id} (object {row.storage_key}): body missing from the file store{hint}")
        except KeyError_ as exc:
            problems.append(f"file {row.id} (object {row.storage_key}): data key does not open: {exc}")
        except TamperedError as exc:
            problems.append(f"file {row.id} (object {row.storage_key}): body does not decrypt: {exc}")
        except (StorageError, OSError) as exc:
            problems.append(f"file {row.id} (object {row.storage_key}): cannot be read: {exc}")
    return Outcome(f"{checked - len(problems)} of {checked} files whole", listed(problems))
