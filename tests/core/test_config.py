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


def production_env(tmp_path, **changes) -> dict:
    keys = new_keyset()
    keys["development"] = False
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys))
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
        "WECHAT_BACKEND": "http",
        "FACE_BACKEND": "off",
        "ECREDENTIAL_BACKEND": "off",
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
        ({"FACE_BACKEND": "local"}, "PORTAL_FACE_BACKEND"),
        ({"ECREDENTIAL_BACKEND": "local"}, "PORTAL_ECREDENTIAL_BACKEND"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, change, expected):
    with pytest.raises(ConfigError) as caught:
        build_config(production_env(tmp_path, **change))
    assert expected in str(caught.value)


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
