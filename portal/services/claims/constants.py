"""Labels of the payment states (stored as text, see ``models.PAYMENT_STATES``)."""

from __future__ import annotations

from ...core.translation import lazy_gettext as _l

PAYMENT_LABELS = {
    "pending": _l("Waiting to be sent to the bank"),
    "exported": _l("Sent to the bank"),
    "paid": _l("Paid"),
    "failed": _l("Failed"),
    "cancelled": _l("Cancelled"),
}
