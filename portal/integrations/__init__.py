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

Systems: ``sms`` (Alibaba Cloud SMS, Tencent Cloud SMS, the development outbox); ``wechat`` (the HTTP API and a
local fake); ``identity`` (face verification and the 医保电子凭证: HTTP adapters and local ones). Storage and the
national platform follow the same pattern.
"""
