"""Each adapter's health() and the `portal doctor` checks of the external systems, against real local servers
where the protocol allows: clamd (PING), S3 (moto's server: HeadBucket), WeChat (the access token), the identity
provider (a connection)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from portal.core import doctor
from portal.integrations import Health
from portal.integrations.antivirus import scanner_from_settings, settings_reader
from portal.integrations.identity import ecredential_verifier, face_verifier
from portal.integrations.identity.http import HttpECredentialVerifier, HttpFaceVerifier
from portal.integrations.identity.local_server import IdentityServer
from portal.integrations.storage.local import LocalStorage
from portal.integrations.storage.s3 import S3Storage
from portal.integrations.wechat.fake import FakeWeChat
from portal.integrations.wechat.http import HttpWeChat
from tests.integrations.clamd_server import FakeClamd, closed_port, running_clamd
from tests.integrations.s3_server import running_s3
from tests.integrations.wechat_server import APPID, SECRET, WeChatServer, running_wechat

INTEGRATION_CHECKS = ("sms", "wechat", "identity", "business_license", "antivirus", "storage")


@pytest.fixture
def clamd() -> Iterator[FakeClamd]:
    yield from running_clamd()


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    yield from running_s3()


@pytest.fixture
def wechat_api() -> Iterator[WeChatServer]:
    yield from running_wechat()


# --- antivirus -------------------------------------------------------------------------------------------------


def test_clamd_health_pings_the_daemon(clamd):
    scanner = scanner_from_settings(settings_reader(clamd.config))
    assert scanner.health() == Health(True, f"clamd at 127.0.0.1:{clamd.port} answers")
    assert clamd.received == []  # a PING, not a scan
    clamd.mode = "error"
    assert not scanner.health().ok


def test_an_unreachable_or_silent_clamd_is_unhealthy(clamd):
    port = closed_port()
    config = {"PORTAL_SCAN_BACKEND": "clamd", "PORTAL_CLAMD_PORT": port}
    health = scanner_from_settings(settings_reader(config)).health()
    assert not health.ok and f"127.0.0.1:{port} unreachable" in health.detail
    clamd.mode = "silent"
    slow = scanner_from_settings(settings_reader({**clamd.config, "PORTAL_CLAMD_TIMEOUT": 0.3})).health()
    assert not slow.ok and "TimeoutError" in slow.detail


def test_without_a_scanner_the_health_says_uploads_are_not_scanned():
    health = scanner_from_settings(settings_reader({"PORTAL_SCAN_BACKEND": "none"})).health()
    assert health.ok and "not scanned" in health.detail


# --- storage ---------------------------------------------------------------------------------------------------


def test_local_storage_health_names_the_directory(tmp_path):
    store = LocalStorage(tmp_path / "files")
    health = store.health()
    assert health.ok and str(tmp_path / "files") in health.detail and "GiB free" in health.detail
    (tmp_path / "files").rmdir()
    assert store.health() == Health(False, f"the file store {tmp_path / 'files'} is not a directory")


def test_s3_health_asks_for_the_bucket(s3_endpoint):
    bucket = f"portal-{uuid.uuid4().hex[:12]}"
    store = S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1", access_key="testing",
                      secret_key="testing", prefix="files/")
    missing = store.health()
    assert not missing.ok and repr(bucket) in missing.detail and "404" in missing.detail
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    assert store.health() == Health(True, f"S3 bucket {bucket!r} at {s3_endpoint}, prefix 'files/'")


def test_an_unreachable_s3_endpoint_is_unhealthy():
    store = S3Storage("portal", endpoint_url=f"http://127.0.0.1:{closed_port()}", region="us-east-1",
                      access_key="testing", secret_key="testing")
    health = store.health()
    assert not health.ok and "unreachable" in health.detail


# --- WeChat ----------------------------------------------------------------------------------------------------


def test_wechat_health_fetches_and_shares_the_access_token(wechat_api, db_session):
    assert HttpWeChat(APPID, SECRET, wechat_api.base_url).health().ok
    assert HttpWeChat(APPID, SECRET, wechat_api.base_url).health().ok  # the shared token: no second fetch
    assert wechat_api.tokens_issued == 1


def test_a_wrong_wechat_secret_or_an_unreachable_api_is_unhealthy(wechat_api, db_session):
    wrong = HttpWeChat(APPID, "not-the-secret", wechat_api.base_url).health()
    assert not wrong.ok and "errcode 40125" in wrong.detail and "not-the-secret" not in wrong.detail
    down = HttpWeChat(APPID, SECRET, f"http://127.0.0.1:{closed_port()}", timeout=(1, 1)).health()
    assert not down.ok and "unreachable" in down.detail
    assert FakeWeChat().health().ok


# --- identity --------------------------------------------------------------------------------------------------


def test_identity_health_connects_to_the_provider():
    server = IdentityServer("app-1", "secret-1").start()
    try:
        for adapter in (HttpFaceVerifier, HttpECredentialVerifier):
            health = adapter(server.base_url, "app-1", "secret-1").health()
            assert health.ok and server.base_url in health.detail
        assert server.seen == []  # no verification was asked for
    finally:
        server.stop()
    down = HttpFaceVerifier(f"http://127.0.0.1:{closed_port()}", "app-1", "secret-1").health()
    assert not down.ok and "unreachable" in down.detail


# --- the doctor ------------------------------------------------------------------------------------------------


def test_the_doctor_checks_every_integration(app):
    checks = doctor.checks()
    assert set(INTEGRATION_CHECKS) <= set(checks)
    with app.app_context():
        outcomes = {name: checks[name].run() for name in INTEGRATION_CHECKS}
        assert face_verifier(app) is not None and ecredential_verifier(app) is not None
    assert all(outcome.ok for outcome in outcomes.values()), outcomes
    assert "not scanned" in outcomes["antivirus"].summary and "local directory" in outcomes["storage"].summary
    assert "local 电子营业执照 service" in outcomes["business_license"].summary  # started in the process, reachable


def test_the_doctor_names_an_unhealthy_integration(app, clamd, s3_endpoint, monkeypatch):
    with app.app_context():
        monkeypatch.setitem(app.config, "PORTAL_SCAN_BACKEND", "clamd")
        monkeypatch.setitem(app.config, "PORTAL_CLAMD_PORT", clamd.port)
        assert doctor.checks()["antivirus"].run().ok
        monkeypatch.setitem(app.config, "PORTAL_CLAMD_PORT", closed_port())
        assert "unreachable" in doctor.checks()["antivirus"].run().problems[0]
        for key, value in {"PORTAL_STORAGE_BACKEND": "s3", "PORTAL_S3_BUCKET": "no-such-bucket",
                           "PORTAL_S3_ENDPOINT_URL": s3_endpoint, "PORTAL_S3_REGION": "us-east-1",
                           "PORTAL_S3_ACCESS_KEY": "testing", "PORTAL_S3_SECRET_KEY": "testing"}.items():
            monkeypatch.setitem(app.config, key, value)
        outcome = doctor.checks()["storage"].run()
    assert not outcome.ok and "'no-such-bucket'" in outcome.problems[0]
