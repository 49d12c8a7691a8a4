"""External systems, one package each: a port and its adapters.

Layout (``portal/integrations/<system>/``):

- ``__init__.py`` is the **port**: a small ``Protocol`` (what the portal asks of the system), the errors and
  results it speaks in, and the **factory** (``get_…``) that reads the configuration in one place and returns
  the adapter the deployment chose.
- One module per **adapter**: the real one (the provider's official SDK or documented HTTP API) and a local
  one for development and tests that keeps the same contract.

Business code (accounts, applications, notifications …) imports the port and its factory, never an adapter
module; configuration picks the adapter; production start refuses a configuration that names no real adapter
or lacks what it needs (``portal.config``).

Every adapter has a ``health()`` answering :class:`Health`; ``portal doctor`` reports each one (``doctor.py``).

Systems: ``sms`` (Alibaba Cloud SMS, Tencent Cloud SMS, the development outbox); ``wechat`` (the HTTP API and a
local fake); ``identity`` (face verification and the 医保电子凭证: HTTP adapters and local ones); ``antivirus``
(clamd over TCP, and the development pass-through); ``storage`` (where file bodies live: S3-compatible object
storage and a local directory); ``national`` (the national medical-security platform: HTTP, and a local hub that
several deployments share).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Health:
    """What an adapter's ``health()`` says: whether it can work, and in one line why (no secret, no personal data)."""

    ok: bool
    detail: str
