"""送达: messages to applicants and staff, written to an outbox in the transaction of the change they announce.

Other features call :func:`portal.notifications.operations.notify` (re-exported here as ``notify``) with an
account, an :class:`~portal.notifications.constants.Event` and its context; ``portal notify work`` delivers.
"""

from __future__ import annotations

from typing import Any


def notify(account: Any, event: Any, context: dict[str, Any], **kwargs: Any) -> Any:
    """See :func:`portal.notifications.operations.notify` (imported when called, so importing this is cheap)."""
    from .operations import notify as _notify

    return _notify(account, event, context, **kwargs)
