"""The identity port's adapters: the HTTP one against a local server speaking the provider's protocol."""

from __future__ import annotations

import socket

import pytest
from flask import Flask

from portal.config import ConfigError
from portal.integrations.identity import (
    ECredential,
    FaceVerdict,
    IdentityProofError,
    ecredential_verifier,
    face_verifier,
)
from portal.integrations.identity.http import HttpECredentialVerifier, HttpFaceVerifier
from portal.integrations.identity.local import LocalECredentialVerifier, LocalFaceVerifier
from portal.integrations.identity.local_server import IdentityServer
from portal.integrations.signed_http import SignedClient
from tests.factories import valid_id_number

APP_ID, SECRET = "app-7", "secret-7"


@pytest.fixture(scope="module")
def server():
    running = IdentityServer(APP_ID, SECRET).start()
    yield running
    running.stop()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_http_face_verdicts_follow_the_live_face(server):
    verifier = HttpFaceVerifier(server.base_url, APP_ID, SECRET)
    number = valid_id_number()
    assert verifier.verify("钱七", number, f"face-{number}") == FaceVerdict(True, 92.0, verifier_id(server))
    failed = verifier.verify("钱七", number, f"face-{valid_id_number()}")
    assert failed.passed is False and failed.score < 50


def verifier_id(server) -> str:
    return server.seen[-1][1]["request_id"]


def test_http_face_errors_become_identity_errors(server):
    number = valid_id_number()
    with pytest.raises(IdentityProofError) as expired:
        HttpFaceVerifier(server.base_url, APP_ID, SECRET).verify("钱七", number, "face-expired")
    assert expired.value.kind == "invalid_token" and expired.value.status == 422
    with pytest.raises(IdentityProofError) as forged:
        HttpFaceVerifier(server.base_url, APP_ID, "not-the-secret").verify("钱七", number, f"face-{number}")
    assert forged.value.kind == "unavailable" and forged.value.detail == "AUTH_FAILED"
    with pytest.raises(IdentityProofError) as down:
        HttpFaceVerifier(f"http://127.0.0.1:{_closed_port()}", APP_ID, SECRET).verify("钱七", number, "face-x")
    assert down.value.status == 503 and number not in str(down.value) and number not in down.value.detail


def test_http_ecredential_resolves_the_holder(server):
    number = valid_id_number()
    credential = HttpECredentialVerifier(server.base_url, APP_ID, SECRET).verify(f"ecred-{number}-钱七")
    assert isinstance(credential, ECredential) and (credential.name, credential.id_number) == ("钱七", number)
    assert credential.valid_until is not None and number not in repr(credential)
    with pytest.raises(IdentityProofError):
        HttpECredentialVerifier(server.base_url, APP_ID, SECRET).verify("garbage")


def test_plain_http_is_refused_outside_this_machine():
    with pytest.raises(ConfigError, match="https"):
        HttpFaceVerifier("http://face.example.com", APP_ID, SECRET)


def test_a_signed_client_must_say_which_error_it_raises():
    class Forgetful(SignedClient):
        provider = "forgetful provider"

    with pytest.raises(TypeError, match="failure"):
        Forgetful("https://provider.example.com", APP_ID, SECRET)


def make_app(**config) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    return app


def test_configuration_picks_the_adapter_in_one_place():
    assert isinstance(face_verifier(make_app(PORTAL_FACE_BACKEND="local")), LocalFaceVerifier)
    assert isinstance(ecredential_verifier(make_app()), LocalECredentialVerifier)
    assert face_verifier(make_app(PORTAL_FACE_BACKEND="off")) is None
    http_app = make_app(PORTAL_FACE_BACKEND="http", PORTAL_FACE_API_BASE="https://face.example.com/v1",
                        PORTAL_FACE_APP_ID=APP_ID, PORTAL_FACE_SECRET=SECRET)
    assert isinstance(face_verifier(http_app), HttpFaceVerifier)
    with pytest.raises(ConfigError, match="PORTAL_FACE_SECRET"):
        face_verifier(make_app(PORTAL_FACE_BACKEND="http", PORTAL_FACE_API_BASE="https://face.example.com"))
    with pytest.raises(ConfigError, match="local, http, off"):
        ecredential_verifier(make_app(PORTAL_ECREDENTIAL_BACKEND="pigeon"))
