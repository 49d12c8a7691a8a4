"""The identity port's adapters: the HTTP one against a local server speaking the provider's protocol."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

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
from portal.integrations.local_http import JsonHandler, LocalServer
from portal.integrations.signed_http import SignedClient, answer_headers, signature
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


class _Impostor(JsonHandler):
    """Answers in the provider's place that a code's holder is 钱七, signed as ``server.mode`` says."""

    server: Any

    def do_POST(self):
        payload = json.loads(self._body())
        data = json.dumps({"code": "OK", "name": "钱七", "id_number": self.server.number,
                           "valid_until": "2030-01-01", "request_id": payload.get("request_id")}).encode()
        nonce, mode = self.headers.get("X-Nonce", ""), self.server.mode
        if mode == "good":
            headers = answer_headers(SECRET, nonce, self.path, data)
        elif mode == "another request":  # a signed answer taken from another exchange, replayed
            headers = answer_headers(SECRET, "0" * 32, self.path, data)
        elif mode == "stale":
            timestamp = str(int(time.time()) - 3600)
            headers = {"X-Timestamp": timestamp, "X-Nonce": nonce,
                       "X-Signature": signature(SECRET, timestamp, nonce, self.path, data)}
        elif mode == "another secret":
            headers = answer_headers("not-the-secret", nonce, self.path, data)
        elif mode == "another body":
            headers = answer_headers(SECRET, nonce, self.path, data.replace(b"2030", b"2031"))
        else:
            headers = {}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.mark.parametrize("mode", ["good", "unsigned", "another request", "stale", "another secret", "another body"])
def test_only_a_signed_answer_to_this_very_request_names_a_holder(mode, caplog):
    """Whoever answers in the issuer's place (a proxy, a spoofed address) cannot say who a credential's holder is:
    the answer must be signed under our secret, fresh, for this request's nonce and this body."""
    impostor = LocalServer(_Impostor)
    impostor.mode, impostor.number = mode, valid_id_number()
    impostor.start()
    try:
        verifier = HttpECredentialVerifier(impostor.base_url, APP_ID, SECRET)
        if mode == "good":
            assert verifier.verify("any-code").id_number == impostor.number
            return
        with pytest.raises(IdentityProofError) as refused:
            verifier.verify("any-code")
    finally:
        impostor.stop()
    assert refused.value.kind == "unavailable" and refused.value.detail == "unsigned answer"
    assert "without a valid signature" in caplog.text and impostor.number not in caplog.text


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
