"""The only clock of the portal. Store UTC, show Asia/Shanghai; tests move time with ``frozen``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return _source().astimezone(UTC)


def local_now() -> datetime:
    return now().astimezone(LOCAL_TZ)


def today() -> date:
    """Today's date in China (deadlines count in local dates)."""
    return local_now().date()


def to_local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)


class _Frozen:
    def __init__(self, moment: datetime):
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def tick(self, delta: timedelta) -> None:
        self.moment = self.moment + delta


@contextmanager
def frozen(moment: datetime) -> Iterator[_Frozen]:
    """Fix ``now()`` at ``moment`` (aware; a naive value is read as Asia/Shanghai) until the block ends."""
    global _source
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    previous = _source
    source = _Frozen(moment)
    _source = source
    try:
        yield source
    finally:
        _source = previous
