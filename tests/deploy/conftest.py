"""Fixtures of the deployment tests: the machine's Redis, under a key prefix of this run that is removed after."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"


@dataclass(frozen=True)
class SharedRedis:
    url: str
    prefix: str  # PORTAL_RATELIMIT_KEY_PREFIX of the servers of one test: their counters and nobody else's

    def keys(self) -> list[str]:
        import redis

        client = redis.Redis.from_url(self.url, socket_timeout=5)
        try:
            return sorted(k.decode() for k in client.scan_iter(match=f"{self.prefix}:*"))
        finally:
            client.close()


@pytest.fixture
def shared_redis() -> Iterator[SharedRedis]:
    """Redis at PORTAL_TEST_REDIS_URL (default redis://127.0.0.1:6379/1). Skipped when it does not answer, unless
    PORTAL_REQUIRE_REDIS=1 (CI). Only keys under this test's own prefix are touched, and deleted at the end."""
    import redis

    url = os.environ.get("PORTAL_TEST_REDIS_URL", DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        if os.environ.get("PORTAL_REQUIRE_REDIS") == "1":
            pytest.fail(f"PORTAL_REQUIRE_REDIS=1 but Redis at {url} does not answer: {exc}")
        pytest.skip(f"no Redis at {url} ({exc}); set PORTAL_TEST_REDIS_URL — shared-limit tests skipped")
    shared = SharedRedis(url, f"portal-test-{secrets.token_hex(6)}")
    try:
        yield shared
    finally:
        for key in client.scan_iter(match=f"{shared.prefix}:*"):
            client.delete(key)
        client.close()
