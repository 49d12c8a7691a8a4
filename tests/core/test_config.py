"""S16: production refuses to start with development secrets, missing keys, SQLite or debug on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import ConfigError, build_config, new_keyset

pytestmark = pytest.mark.no_db


TEMPLATES = ('{"otp_login": "SMS_1", "otp_lookup": "SMS_2", '
             '"binding_active": "SMS_5", "binding_pending": "SMS_6"}')

def production_env(tmp_path, **changes) -> dict:
    keys = new_keyset()
    keys["development"] = False
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    from portal.certificates.signing import new_pair

    signing_key, signing_cert = new_pair(tmp_path / "signing", "吉林省医疗保障经办机构", development=False)
    env = {
        "SIGNING_KEY_FILE": str(signing_key),
        "SIGNING_CERT_FILE": str(signing_cert),
        "ENV": "production",
        "SECRET_KEY": "s" * 48,
        "KEYS_FILE": str(path),
        "DATABASE_URL": "postgresql+psycopg://portal@db/portal",
        "SMS_BACKEND": "aliyun",
        "SMS_KEY_ID": "LTAI-test",
        "SMS_KEY_SECRET": "secret",
        "SMS_SIGN_NAME": "吉林医保",
        "SMS_TEMPLATES": TEMPLATES,
        "WECHAT_BACKEND": "http",
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
        "WECHAT_APPID": "wx0123456789",
        "WECHAT_SECRET": "wechat-secret",
        "FACE_BACKEND": "off",
        "ECREDENTIAL_BACKEND": "off",
        "NATIONAL_BACKEND": "off",
        "BUSINESS_LICENSE_BACKEND": "off",
        "INSTANCE_PATH": str(tmp_path / "inst"),
    }
    env.update(changes)
    return {k: v for k, v in env.items() if v is not None}


def test_a_complete_production_config_is_accepted(tmp_path):
    config = build_config(production_env(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"SECRET_KEY": None}, "PORTAL_SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "PORTAL_SECRET_KEY"),
        ({"KEYS_FILE": None}, "PORTAL_KEYS_FILE"),
        ({"DATABASE_URL": "sqlite:///portal.db"}, "PostgreSQL"),
        ({"DEBUG": True}, "PORTAL_DEBUG"),
        ({"SMS_BACKEND": "outbox"}, "SMS"),
        ({"SMS_BACKEND": "yunpian"}, "PORTAL_SMS_BACKEND='yunpian' names no SMS gateway"),
        ({"SMS_KEY_SECRET": None}, "PORTAL_SMS_BACKEND=aliyun needs PORTAL_SMS_KEY_SECRET"),
        ({"SMS_TEMPLATES": '{"otp_login": "SMS_1"}'}, "template id of otp_lookup"),
        ({"SMS_TEMPLATES": "SMS_1"}, "PORTAL_SMS_TEMPLATES must be a JSON object"),
        ({"SMS_BACKEND": "tencent"}, "PORTAL_SMS_BACKEND=tencent needs PORTAL_SMS_APP_ID"),
        ({"STORAGE_BACKEND": "s3"}, "PORTAL_STORAGE_BACKEND=s3 needs PORTAL_S3_BUCKET"),
        ({"WECHAT_APPID": None}, "PORTAL_WECHAT_BACKEND=http needs PORTAL_WECHAT_APPID and PORTAL_WECHAT_SECRET"),
        ({"WECHAT_SECRET": None}, "PORTAL_WECHAT_BACKEND=http needs PORTAL_WECHAT_APPID and PORTAL_WECHAT_SECRET"),
        ({"SECURE_COOKIES": False}, "PORTAL_SECURE_COOKIES must be on"),
        ({"NOTIFY_LEASE_SECONDS": 20}, "PORTAL_NOTIFY_LEASE_SECONDS must be more than three times"),
        ({"FACE_BACKEND": "local"}, "PORTAL_FACE_BACKEND"),
        ({"ECREDENTIAL_BACKEND": "local"}, "PORTAL_ECREDENTIAL_BACKEND"),
        ({"NATIONAL_BACKEND": "local"}, "PORTAL_NATIONAL_BACKEND must be http (or off) in production"),
        ({"NATIONAL_BACKEND": "http"}, "PORTAL_NATIONAL_BACKEND=http needs PORTAL_NATIONAL_URL"),
        ({"BUSINESS_LICENSE_BACKEND": "local"}, "PORTAL_BUSINESS_LICENSE_BACKEND"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, change, expected):
    with pytest.raises(ConfigError) as caught:
        build_config(production_env(tmp_path, **change))
    assert expected in str(caught.value)


def test_the_real_gateways_and_their_settings_are_accepted(tmp_path):
    config = build_config(production_env(tmp_path, SMS_BACKEND="tencent", SMS_APP_ID="1400000000",
                                         STORAGE_BACKEND="s3", S3_BUCKET="portal-files"))
    assert config["PORTAL_SMS_BACKEND"] == "tencent" and config["PORTAL_SMS_APP_ID"] == "1400000000"
    assert config["PORTAL_SMS_TEMPLATES"] == TEMPLATES


def test_an_unknown_sms_gateway_is_refused_outside_production_too(tmp_path):
    with pytest.raises(ConfigError, match="PORTAL_SMS_BACKEND='alyun' names no SMS gateway; choose one of outbox"):
        build_config({"INSTANCE_PATH": str(tmp_path), "SMS_BACKEND": "alyun"})


@pytest.mark.parametrize("raw", ['{"approved": ', '["Xq2"]', '{"approved": ""}', '{"approved": null}'])
def test_wechat_templates_that_are_no_json_object_of_ids_are_refused_at_start(tmp_path, raw):
    """Read as "no templates" before, every WeChat message then failed without a word at start."""
    with pytest.raises(ConfigError, match="PORTAL_WECHAT_TEMPLATES must be a JSON object of notification event"):
        build_config({"INSTANCE_PATH": str(tmp_path), "WECHAT_TEMPLATES": raw})
    with pytest.raises(ConfigError, match="PORTAL_WECHAT_TEMPLATES must be a JSON object"):
        build_config(production_env(tmp_path, WECHAT_TEMPLATES=raw))
    assert build_config({"INSTANCE_PATH": str(tmp_path), "WECHAT_TEMPLATES": '{"approved": "Xq2"}'})


def test_production_refuses_development_keys(tmp_path):
    env = production_env(tmp_path)
    path = Path(env["KEYS_FILE"])
    keys = json.loads(path.read_text())
    keys["development"] = True
    path.write_text(json.dumps(keys))
    with pytest.raises(ConfigError, match="development keys"):
        build_config(env)


def test_production_refuses_a_missing_keys_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        build_config(production_env(tmp_path, KEYS_FILE=str(tmp_path / "nope.json")))


def test_bad_values_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_MAX_CONTENT_LENGTH", "lots")
    with pytest.raises(ConfigError, match="PORTAL_MAX_CONTENT_LENGTH"):
        build_config({"INSTANCE_PATH": str(tmp_path)})
    monkeypatch.delenv("PORTAL_MAX_CONTENT_LENGTH")
    with pytest.raises(ConfigError, match="PORTAL_REGION"):
        build_config({"INSTANCE_PATH": str(tmp_path), "REGION": "atlantis"})


def test_development_creates_its_secrets_once(tmp_path):
    first = build_config({"INSTANCE_PATH": str(tmp_path)})
    second = build_config({"INSTANCE_PATH": str(tmp_path)})
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert oct(os.stat(tmp_path / "keys.json").st_mode & 0o777) == "0o600"


def test_the_command_exits_with_a_clear_message_in_production(tmp_path):
    env = {**os.environ, "PORTAL_ENV": "production", "PORTAL_INSTANCE_PATH": str(tmp_path)}
    for name in ("PORTAL_SECRET_KEY", "PORTAL_KEYS_FILE", "PORTAL_DATABASE_URL"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "portal", "audit", "verify"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "cannot start in production" in result.stderr and "PORTAL_SECRET_KEY" in result.stderr


def test_rate_limits_come_from_the_environment_and_are_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_LIMIT_PROGRESS_IP", "600/minute")
    assert build_config({"INSTANCE_PATH": str(tmp_path)})["PORTAL_LIMIT_PROGRESS_IP"] == "600/minute"
    monkeypatch.setenv("PORTAL_LIMIT_PROGRESS_IP", "lots per hour")
    with pytest.raises(ConfigError, match="PORTAL_LIMIT_PROGRESS_IP"):
        build_config({"INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize(("setting", "mode"), [("KEYS_FILE", 0o644), ("KEYS_FILE", 0o640),
                                               ("SIGNING_KEY_FILE", 0o644), ("SIGNING_KEY_FILE", 0o604)])
def test_production_refuses_key_files_others_can_read(tmp_path, setting, mode):
    env = production_env(tmp_path)
    Path(env[setting]).chmod(mode)
    with pytest.raises(ConfigError) as caught:
        build_config(env)
    message = str(caught.value)
    assert f"PORTAL_{setting}: {env[setting]} has mode {mode:04o}" in message and f"chmod 600 {env[setting]}" in message
    Path(env[setting]).chmod(0o600)
    assert build_config(env)["PORTAL_KEYS"]["development"] is False


def test_development_accepts_a_readable_keys_file(tmp_path):
    keys = new_keyset()
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys))
    path.chmod(0o644)
    assert build_config({"INSTANCE_PATH": str(tmp_path), "KEYS_FILE": str(path)})["PORTAL_KEYS"] == keys
