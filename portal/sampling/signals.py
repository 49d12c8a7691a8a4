"""Signals of post-hoc checking, for other features (notifications) to listen to.

``sample_concluded`` is sent by ``operations.conclude_check`` inside the transaction that concluded the check,
with the ``SamplingCheck`` as sender and ``case`` (the ``Application``) and ``outcome`` (an ``Outcome``). The
applicant already reads the outcome on the case's timeline; a receiver may add a message (SMS, inbox) in the
same transaction. A receiver that raises undoes the conclusion with everything else.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

sample_concluded = _signals.signal("sample-concluded")
