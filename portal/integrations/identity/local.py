"""The local adapters of the identity port, for development: no network, answers decided by the input.

Face: a live token ``face-<ID number>`` is the face of that person (a stranger's own face does not pass for
someone else); ``face-expired`` is a used-up token. 医保电子凭证: a code ``ecred-<ID number>-<name>`` is that
person's credential, valid for a year; anything else is an invalid code. ``local_server.py`` answers the same
over HTTP.
"""

from __future__ import annotations

from datetime import timedelta

from ...core import clock
from .. import Health
from . import ECredential, FaceVerdict, IdentityProofError

EXPIRED_TOKEN = "face-expired"  # noqa: S105 (a test token, not a password)
PASS_SCORE = 92.0
FAIL_SCORE = 18.0


def face_verdict(id_number: str, live_token: str) -> FaceVerdict:
    if live_token == EXPIRED_TOKEN or not live_token.startswith("face-"):
        raise IdentityProofError("invalid_token", "local: unknown token")
    same = live_token[len("face-"):].upper() == id_number.upper()
    return FaceVerdict(same, PASS_SCORE if same else FAIL_SCORE, "local")


def ecredential(code: str) -> ECredential:
    parts = code.split("-", 2)
    if len(parts) != 3 or parts[0] != "ecred" or not parts[1] or not parts[2]:
        raise IdentityProofError("invalid_token", "local: unknown code")
    return ECredential(parts[2], parts[1].upper(), clock.today() + timedelta(days=365))


class LocalFaceVerifier:
    def verify(self, name: str, id_number: str, live_token: str) -> FaceVerdict:
        return face_verdict(id_number, live_token)

    def health(self) -> Health:
        return Health(True, "local face verification (development): no provider is asked")


class LocalECredentialVerifier:
    def verify(self, code: str) -> ECredential:
        return ecredential(code)

    def health(self) -> Health:
        return Health(True, "local 医保电子凭证 verification (development): no provider is asked")
