"""The signing key: a development pair is made on first start under instance/; production refuses to start
without the agency's own key and certificate, or with the development pair (S16)."""

from __future__ import annotations

import stat

import pytest

from portal.certificates import signing
from portal.config import ConfigError, build_config
from tests.core.test_config import production_env

pytestmark = pytest.mark.no_db


def test_development_creates_a_signing_pair_once_with_an_owner_only_key(tmp_path):
    config = build_config({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})
    settings = config["PORTAL_SIGNING"]
    key, cert = tmp_path / "signing" / "signing-key.pem", tmp_path / "signing" / "signing-cert.pem"
    assert (settings["key"], settings["cert"], settings["development"]) == (str(key), str(cert), True)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert signing.is_development_certificate(cert)
    before = cert.read_bytes()
    assert build_config({"ENV": "development", "INSTANCE_PATH": str(tmp_path)})["PORTAL_SIGNING"]["cert"] == str(cert)
    assert cert.read_bytes() == before  # kept, not regenerated


@pytest.mark.parametrize("missing", ["SIGNING_KEY_FILE", "SIGNING_CERT_FILE"])
def test_production_refuses_to_start_without_the_signing_key(tmp_path, missing):
    with pytest.raises(ConfigError, match="PORTAL_SIGNING_KEY_FILE and PORTAL_SIGNING_CERT_FILE"):
        build_config(production_env(tmp_path, **{missing: None}))


def test_production_refuses_the_development_certificate(tmp_path):
    key, cert = signing.ensure_development_pair(tmp_path / "dev")
    with pytest.raises(ConfigError, match="development certificate"):
        build_config(production_env(tmp_path, SIGNING_KEY_FILE=str(key), SIGNING_CERT_FILE=str(cert)))


def test_production_refuses_an_unreadable_key_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        build_config(production_env(tmp_path, SIGNING_KEY_FILE=str(tmp_path / "nope.pem")))


def test_production_uses_the_configured_pair(tmp_path):
    config = build_config(production_env(tmp_path))
    assert config["PORTAL_SIGNING"]["development"] is False
    assert not signing.is_development_certificate(signing.Path(config["PORTAL_SIGNING"]["cert"]))
