"""即办件 whose online filing needs nobody to look at anything: they complete the moment they are submitted.

Printing one's own 参保凭证, querying one's own records and changing one's own phone number rely on the
real-name binding alone. When any pre-check finding is more than information, the case goes to a person
instead (see ``Handler.may_complete_at_once``). Certificate items (``certificates.py``) extend this with the
certificate they issue.
"""

from __future__ import annotations

from .base import Handler, register


@register(
    "queries.unit",
    "queries.archive",
    "enrolment.phone_change",
)
class SelfServiceItem(Handler):
    name = "self_service"
    completes_at_once = True
