"""One shared place for the short-lived access tokens of external systems (WeChat's access_token, ~2 hours).

Every web and worker process reads the same row, so a token fetched by one is used by all until it is about to
run out; the row is written in the caller's transaction with an upsert (two processes renewing at once both
succeed; the later write wins). The token is sealed like every secret column (S11).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..core import clock
from ..core.crypto import Encrypted
from ..core.db import Base, db

RENEW_BEFORE = timedelta(minutes=5)


class IntegrationToken(Base):
    __tablename__ = "integration_token"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)  # e.g. "wechat:<appid>"
    value: Mapped[str] = mapped_column(Encrypted("integration_token.value"))
    expires_at: Mapped[datetime]


class DbTokenStore:
    """Tokens in the ``integration_token`` table, shared by every process of the deployment."""

    def get(self, name: str) -> str | None:
        """The token, unless it runs out within ``RENEW_BEFORE`` (then it is renewed before it expires)."""
        row = db.session.get(IntegrationToken, name, populate_existing=True)
        if row is None or row.expires_at - RENEW_BEFORE <= clock.now():
            return None
        return row.value

    def put(self, name: str, value: str, lifetime: timedelta) -> None:
        values = {"name": name, "value": value, "expires_at": clock.now() + lifetime}
        statement = db.upsert(IntegrationToken).values(**values)
        statement = statement.on_conflict_do_update(index_elements=["name"], set_={
            "value": statement.excluded.value, "expires_at": statement.excluded.expires_at})
        db.session.execute(statement)
        db.session.flush()
