"""Rate limits as the portal counts them (S4): through the limiter's storage, with none of Flask-Limiter's
per-request hooks; the ``memory://`` storage counts as the library's does without starting a thread per hit, and
purges expired counters so that many keys do not make it grow without bound."""

from __future__ import annotations

import threading
import time

import pytest

from portal.accounts.operations import throttle
from portal.core.errors import RateLimited
from portal.core.ratelimits import CountingLimiter, SweptMemoryStorage
from portal.extensions import limiter


def test_the_app_counts_in_the_swept_storage_and_pays_no_limiter_hook_per_request(app):
    assert isinstance(limiter.limiter.storage, SweptMemoryStorage)
    hooks = [*app.before_request_funcs[None], *app.after_request_funcs[None], *app.teardown_request_funcs[None]]
    assert not [h for h in hooks if getattr(h, "__self__", None) is limiter or getattr(h, "args", ())[:1] == (limiter,)]


def test_throttle_still_limits(app):
    with app.test_request_context("/"):
        for _ in range(3):
            throttle("PORTAL_LIMIT_TEST_ONLY", "203.0.113.9", default="3/minute")
        with pytest.raises(RateLimited):
            throttle("PORTAL_LIMIT_TEST_ONLY", "203.0.113.9", default="3/minute")
        throttle("PORTAL_LIMIT_TEST_ONLY", "203.0.113.10", default="3/minute")  # another key counts on its own


def test_a_route_limit_is_refused_rather_than_silently_ignored():
    with pytest.raises(TypeError):
        limiter.limit("1/minute")
    with pytest.raises(TypeError):
        CountingLimiter.shared_limit(limiter, "1/minute", scope="x")


def test_hits_start_no_thread_and_still_count(monkeypatch):
    storage = SweptMemoryStorage("memory://")
    started = []
    real = threading.Timer.start
    monkeypatch.setattr(threading.Timer, "start", lambda self: started.append(self) or real(self))
    for _ in range(50):
        storage.incr("k", expiry=60)
        time.sleep(0.002)  # the library's timer (0.01 s) would have ended and been started again several times
    assert started == []
    assert storage.get("k") == 50


def test_expired_counters_are_purged_inline_so_many_keys_do_not_grow_memory(monkeypatch):
    storage = SweptMemoryStorage("memory://")
    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_SECONDS", 0.0)
    for n in range(1000):
        storage.incr(f"old{n}", expiry=0.01)
        assert storage.acquire_entry(f"moving{n}", limit=5, expiry=0.01)
    time.sleep(0.05)
    storage.incr("new", expiry=60)
    # the old ones are gone from memory, not only read as zero
    assert set(storage.storage) == {"new"} and set(storage.expirations) == {"new"} and not storage.events
    assert set(storage.locks) <= {"new"}


def test_threads_hitting_while_sweeping_never_wait_on_each_other(monkeypatch):
    """The sweep runs before a hit takes its key's lock (never inside it), so threads that sweep and hit
    different keys at once all finish."""
    storage = SweptMemoryStorage("memory://")
    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_SECONDS", 0.0)  # every hit sweeps

    failures = []

    def hammer(name: str) -> None:
        try:
            for n in range(2000):
                storage.incr(f"{name}{n % 50}", expiry=0.001 if n % 2 else 60)
                storage.acquire_entry(f"{name}-m{n % 50}", limit=1000, expiry=1)
        except Exception as error:  # e.g. the library's own sweep: KeyError on a key another hit purged
            failures.append(error)

    threads = [threading.Thread(target=hammer, args=(f"t{i}",), daemon=True) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [t for t in threads if t.is_alive()] and failures == []
    assert [storage.get(f"t{i}0") for i in range(4)] == [40] * 4  # n = 0, 50, …, 1950: kept 60 s, all counted
