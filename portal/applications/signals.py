"""Signals other features listen to instead of being called from the lifecycle.

``case_moved`` is sent by ``operations.transition`` after every move, inside the transaction that made it,
with the case as sender and ``event`` (the ``ApplicationEvent`` written) and ``action`` (the ``Action``).
A receiver that writes rows (an outbox message, say) writes them in that same transaction; a receiver that
raises undoes the move with everything else.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

case_moved = _signals.signal("case-moved")
