"""The doctor's checks of the external systems: each adapter the configuration picked says whether it can work.

No message is sent and no provider is called: ``health()`` reports what the adapter needs and lacks (credentials,
signature, endpoint), so ``portal doctor`` can be run at any time, including right after a restore.
"""

from __future__ import annotations

from ..core.doctor import Outcome, check
from . import sms


@check("sms", "the configured SMS gateway has what it needs to send")
def sms_gateway() -> Outcome:
    health = sms.get_gateway().health()
    return Outcome(health.detail, () if health.ok else (health.detail,))


@check("bank", "the configured bank file layout can write payment batches and read return files")
def bank_files() -> Outcome:
    from .bank import get_bank_files

    health = get_bank_files().health()
    return Outcome(health.detail, () if health.ok else (health.detail,))
