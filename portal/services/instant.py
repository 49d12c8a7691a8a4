"""即办件 whose online filing needs nobody to look at anything: they complete the moment they are submitted.

Printing one's own 参保凭证 and querying one's own records rely on the real-name binding alone (changing one's
phone number, ``record_changes/phone.py``, also proves the new number by SMS). When any pre-check finding is more
than information, the case goes to a person instead (see ``Handler.may_complete_at_once``). Certificate items
(``certificates.py``) extend this with the certificate they issue.
"""

from __future__ import annotations

from .base import Handler, register


@register(
    "queries.unit",
    "queries.archive",
)
class SelfServiceItem(Handler):
    name = "self_service"
    completes_at_once = True
