"""Rate limits shared through Redis (PORTAL_RATELIMIT_STORAGE_URI=redis://…): two app instances in two processes
count against the same limit; production refuses per-process (memory://) counters unless one process serves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import ConfigError, build_config, gunicorn_workers
from tests import servers
from tests.core.test_config import production_env
from tests.factories import mobile

pytestmark = pytest.mark.no_db


class Instance:
    """An app instance in a child process (tests/deploy/limits_child.py) that asks for login codes on demand."""

    def __init__(self, folder: Path, settings: dict[str, str]) -> None:
        env = servers.portal_env(folder, **settings)
        self.process = subprocess.Popen([sys.executable, "-m", "tests.deploy.limits_child"], cwd=servers.ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def wait_ready(self) -> None:
        line = self.process.stdout.readline()
        assert line.strip() == "ready", f"the app instance did not start: {line!r}"

    def ask(self, phone: str) -> list:
        """[HTTP status, Retry-After, error code] of asking for a login code to ``phone``."""
        self.process.stdin.write(phone + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def ask_code(self, phone: str) -> int:
        return self.ask(phone)[0]

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def test_two_app_instances_share_the_sms_code_limit_through_redis(shared_redis, tmp_path):
    settings = {"PORTAL_RATELIMIT_STORAGE_URI": shared_redis.url, "PORTAL_RATELIMIT_KEY_PREFIX": shared_redis.prefix}
    first, second = Instance(tmp_path / "a", settings), Instance(tmp_path / "b", settings)
    try:
        first.wait_ready()
        second.wait_ready()
        phone, other = mobile(), mobile()
        # one code a minute per phone (PORTAL_LIMIT_OTP_SEND_PHONE): the second instance knows the first sent one
        assert [first.ask_code(phone), second.ask_code(phone), second.ask_code(other), first.ask_code(other)] == [
            202, 429, 202, 429]
    finally:
        first.close()
        second.close()
    keys = shared_redis.keys()
    assert keys and any(phone in key for key in keys), keys  # the counters live in Redis, under the prefix


def test_a_redis_that_does_not_answer_is_a_503_to_retry_not_a_500(tmp_path):
    nobody = servers.free_port()  # nothing listens there
    instance = Instance(tmp_path / "c", {"PORTAL_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{nobody}/0"})
    try:
        instance.wait_ready()
        assert instance.ask(mobile()) == [503, "30", "service_unavailable"]
    finally:
        instance.close()


def test_redis_storage_gets_the_prefix_and_short_timeouts(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("PORTAL_RATELIMIT_KEY_PREFIX", "portal-jilin")
    options = build_config({"INSTANCE_PATH": str(tmp_path)})["RATELIMIT_STORAGE_OPTIONS"]
    assert options["key_prefix"] == "portal-jilin" and options["socket_timeout"] <= 5
    monkeypatch.delenv("PORTAL_RATELIMIT_STORAGE_URI")
    assert build_config({"INSTANCE_PATH": str(tmp_path)})["RATELIMIT_STORAGE_OPTIONS"] == {}


# --- production refuses per-process counters -------------------------------------------------------------------


@pytest.fixture
def production(tmp_path, monkeypatch):
    """Build a complete production configuration (tests/core/test_config.py) with ``changes``, in an environment
    that says nothing about gunicorn workers unless the test sets it."""
    for name in ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    return lambda **changes: build_config(production_env(tmp_path, **changes))


def test_production_refuses_memory_limits_unless_one_process_is_declared(production):
    assert production()["RATELIMIT_STORAGE_URI"].startswith("redis://")  # the complete configuration uses Redis
    with pytest.raises(ConfigError, match=r"PORTAL_RATELIMIT_STORAGE_URI is memory://.*PORTAL_SINGLE_PROCESS=1"):
        production(RATELIMIT_STORAGE_URI="memory://")
    assert production(RATELIMIT_STORAGE_URI="memory://", SINGLE_PROCESS=True)["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize("gunicorn", [{"WEB_CONCURRENCY": "4"}, {"GUNICORN_CMD_ARGS": "--bind 127.0.0.1:8000 -w 3"}])
def test_production_refuses_memory_limits_when_gunicorn_is_set_to_several_workers(production, monkeypatch, gunicorn):
    for name, value in gunicorn.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="PORTAL_SINGLE_PROCESS=1 but gunicorn is set to run"):
        production(RATELIMIT_STORAGE_URI="memory://", SINGLE_PROCESS=True)
    assert production()["RATELIMIT_STORAGE_URI"].startswith("redis://")  # shared counters: any number of workers


@pytest.mark.parametrize(("environ", "workers"), [
    ({}, None), ({"WEB_CONCURRENCY": "4"}, 4), ({"GUNICORN_CMD_ARGS": "-w 2"}, 2),
    ({"GUNICORN_CMD_ARGS": "--workers=5", "WEB_CONCURRENCY": "2"}, 5), ({"GUNICORN_CMD_ARGS": "-w3"}, 3),
    ({"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:80"}, None), ({"WEB_CONCURRENCY": "many"}, None),
])
def test_the_worker_count_gunicorn_reads_from_its_environment(environ, workers):
    assert gunicorn_workers(environ) == workers
