"""The ``memory://`` rate-limit storage counts as the library's does, without starting a thread per hit, and still
purges expired counters."""

from __future__ import annotations

import threading
import time

from portal.core.ratelimits import SweptMemoryStorage
from portal.extensions import limiter


def test_the_app_uses_it_for_memory(app):
    assert isinstance(limiter.limiter.storage, SweptMemoryStorage)


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


def test_expired_counters_are_purged_inline(monkeypatch):
    storage = SweptMemoryStorage("memory://")
    monkeypatch.setattr(SweptMemoryStorage, "SWEEP_SECONDS", 0.0)
    for n in range(100):
        storage.incr(f"old{n}", expiry=0.01)
    time.sleep(0.05)
    storage.incr("new", expiry=60)
    assert set(storage.storage) == {"new"}  # the old ones are gone from memory, not only read as zero
